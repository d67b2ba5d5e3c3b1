//! No data loss: a server killed with SIGKILL in the middle of a burst of submissions loses
//! no acknowledged response and leaves no code redeemed without its response.

use std::collections::HashSet;

use diesel::prelude::*;

use anshin::db::schema::{invitation_codes, responses};
use anshin::secret::ServerSecret;
use anshin::settings::default_secret_file;

use crate::helpers::{
    complete_answers, connect, form_body, integrity_check, issue_codes, open_wave, seed_org,
    temp_database, test_settings, ServerProcess,
};

#[actix_web::test]
async fn sigkill_during_a_burst_loses_no_acknowledged_response() {
    let (_dir, db) = temp_database();
    let settings = test_settings(&db);
    seed_org(&db);
    let wave = open_wave(&db, &settings);
    let secret = ServerSecret::load_or_create(&default_secret_file(&db)).expect("secret");
    const CODES: usize = 3000;
    let codes = issue_codes(&db, &secret, wave, "T1", CODES);
    let server = ServerProcess::start(&db, "warn");
    let address = server.address.clone();
    let body = form_body(&complete_answers(4));

    // 16 clients submit as fast as they can; the server is killed once 300 are acknowledged.
    let acknowledged = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
    let queue = std::rc::Rc::new(std::cell::RefCell::new(
        codes
            .iter()
            .map(|c| c.display_form())
            .collect::<Vec<_>>()
            .into_iter(),
    ));
    let mut clients = Vec::new();
    for _ in 0..16 {
        let (acknowledged, queue, address, body) = (
            acknowledged.clone(),
            queue.clone(),
            address.clone(),
            body.clone(),
        );
        clients.push(actix_web::rt::spawn(async move {
            let client = awc::Client::builder()
                .disable_redirects()
                .timeout(std::time::Duration::from_secs(10))
                .finish();
            loop {
                let next = queue.borrow_mut().next();
                let Some(code) = next else { break };
                let sent = client
                    .post(format!("{address}/s/{code}"))
                    .insert_header(("content-type", "application/x-www-form-urlencoded"))
                    .send_body(body.clone())
                    .await;
                match sent {
                    Ok(response) if response.status().as_u16() == 303 => {
                        acknowledged.borrow_mut().push(code)
                    }
                    Ok(_) => {}
                    // The server is gone.
                    Err(_) => break,
                }
            }
        }));
    }
    while acknowledged.borrow().len() < 300 {
        actix_web::rt::time::sleep(std::time::Duration::from_millis(2)).await;
    }
    server.kill_hard();
    for client in clients {
        let _ = client.await;
    }
    let acknowledged: HashSet<String> = acknowledged.borrow().iter().cloned().collect();
    assert!(
        acknowledged.len() >= 300 && acknowledged.len() < CODES,
        "the kill hit mid-burst: {}",
        acknowledged.len()
    );

    // Restart on the same file: recovery happens on open.
    let server = ServerProcess::start(&db, "warn");
    let mut conn = connect(&db);
    assert_eq!(integrity_check(&mut conn), "ok");
    let stored: i64 = responses::table
        .filter(anshin::db::schema::responses::filled.eq(true))
        .count()
        .get_result(&mut conn)
        .expect("count");
    let used: i64 = invitation_codes::table
        .filter(invitation_codes::used.eq(true))
        .count()
        .get_result(&mut conn)
        .expect("count");
    assert!(
        stored as usize >= acknowledged.len(),
        "acknowledged {} but stored {stored}",
        acknowledged.len()
    );
    assert_eq!(
        used, stored,
        "every redeemed code has its response and vice versa"
    );
    // Every acknowledged code is spent.
    for code in acknowledged {
        let hash = anshin::codes::InvitationCode::parse(&code)
            .expect("code")
            .keyed_hash(&secret);
        let used: bool = invitation_codes::table
            .find(hash.0.to_vec())
            .select(invitation_codes::used)
            .first(&mut conn)
            .expect("code row");
        assert!(used);
    }
    drop(server);
}
