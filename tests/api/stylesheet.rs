//! The stylesheet's dashboard rules (issue 14): the classes phase 2 applies exist, figures and
//! table headers never wrap, and the print rules target A4. What they look like at 360 and
//! 1280 px is for the browser tests; this checks that the rules are there and well-formed.

fn stylesheet() -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("templates/static/app.css");
    std::fs::read_to_string(path).expect("templates/static/app.css")
}

/// The declarations of every rule whose selector list contains `selector` exactly.
fn declarations(css: &str, selector: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = css;
    while let Some(open) = rest.find('{') {
        let head = &rest[..open];
        let selectors = head.rsplit(['}', '{', ';']).next().unwrap_or_default();
        let Some(close) = rest[open..].find('}') else {
            break;
        };
        let body = &rest[open + 1..open + close];
        if !body.contains('{')
            && selectors
                .split(',')
                .map(|s| s.split("*/").last().unwrap_or_default().trim())
                .any(|s| s == selector)
        {
            found.push(body.to_string());
        }
        rest = &rest[open + 1..];
    }
    found
}

#[test]
fn the_stylesheet_is_balanced_and_defines_the_dashboard_classes() {
    let css = stylesheet();
    let without_comments: String = css
        .split("/*")
        .map(|part| part.split_once("*/").map_or(part, |(_, after)| after))
        .collect();
    assert_eq!(
        without_comments.matches('{').count(),
        without_comments.matches('}').count(),
        "unbalanced braces"
    );
    for class in [
        ".figure",
        ".table-scroll",
        ".page-wide",
        ".dashboard-grid",
        ".change-meaningful",
        ".change-noise",
        ".hidden-reason",
        ".checklist",
        ".print-only",
    ] {
        assert!(
            !declarations(&without_comments, class).is_empty(),
            "{class} has no rule"
        );
        assert!(css.contains(&format!("`{class}`")), "{class} undocumented");
    }
    let nowrap = |selector: &str| {
        declarations(&without_comments, selector)
            .iter()
            .any(|body| body.contains("white-space: nowrap"))
    };
    assert!(nowrap(".figure"), "figures never break");
    assert!(nowrap("table.data th"), "table headers do not wrap");
    assert!(nowrap(".toolbar-link"), "パスワード変更 stays on one line");
    assert!(declarations(&without_comments, "table.data td")
        .iter()
        .any(|body| body.contains("overflow-wrap: normal")));
    assert!(css.contains("size: A4"), "the print stylesheet targets A4");
    assert!(declarations(&without_comments, ".page-wide")
        .iter()
        .any(|body| body.contains("max-width: 80rem")));
}
