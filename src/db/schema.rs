// Mirrors migrations/; kept by hand (diesel print-schema output shape).

diesel::table! {
    workplaces (id) {
        id -> Integer,
        code -> Text,
        name -> Text,
        parent_id -> Nullable<Integer>,
        headcount -> Nullable<Integer>,
    }
}

diesel::table! {
    waves (id) {
        id -> Integer,
        name -> Text,
        survey_id -> Text,
        survey_version -> Integer,
        definition_toml -> Text,
        definition_sha256 -> Text,
        status -> Text,
        min_group_size -> Integer,
        min_detail_group_size -> Integer,
        opened_on -> Text,
        closed_on -> Nullable<Text>,
        baseline_wave_id -> Nullable<Integer>,
        cut_x -> Nullable<Double>,
        cut_y -> Nullable<Double>,
    }
}

diesel::table! {
    invitation_codes (code_hash) {
        code_hash -> Binary,
        wave_id -> Integer,
        workplace_id -> Integer,
        used -> Bool,
    }
}

diesel::table! {
    responses (wave_id, workplace_id, id) {
        wave_id -> Integer,
        workplace_id -> Integer,
        id -> Binary,
        filled -> Bool,
        job_level -> Text,
        answers -> Binary,
    }
}

diesel::table! {
    comments (wave_id, workplace_id, id) {
        wave_id -> Integer,
        workplace_id -> Integer,
        id -> Binary,
        filled -> Bool,
        body -> Text,
    }
}

diesel::table! {
    accounts (id) {
        id -> Integer,
        login -> Text,
        password_hash -> Text,
        role -> Text,
        created_at -> Text,
        disabled_on -> Nullable<Text>,
        session_epoch -> Integer,
    }
}

diesel::table! {
    manager_scopes (account_id, workplace_id) {
        account_id -> Integer,
        workplace_id -> Integer,
    }
}

diesel::table! {
    action_plans (id) {
        id -> Integer,
        wave_id -> Integer,
        workplace_id -> Integer,
        dimension -> Text,
        action -> Text,
        owner -> Text,
        due_on -> Nullable<Text>,
        created_by -> Nullable<Integer>,
        created_at -> Text,
        status -> Text,
        policy_actions -> Text,
        updated_at -> Nullable<Text>,
    }
}

diesel::table! {
    audit_log (id) {
        id -> Integer,
        at -> Text,
        account_id -> Nullable<Integer>,
        action -> Text,
        detail -> Text,
    }
}

diesel::table! {
    reporting_units (id) {
        id -> Integer,
        code -> Text,
        name -> Text,
    }
}

diesel::table! {
    reporting_unit_members (unit_id, workplace_id) {
        unit_id -> Integer,
        workplace_id -> Integer,
    }
}

diesel::table! {
    settings (key) {
        key -> Text,
        value -> Text,
    }
}

diesel::table! {
    frozen_results (wave_id) {
        wave_id -> Integer,
        results_json -> Text,
    }
}

diesel::joinable!(invitation_codes -> waves (wave_id));
diesel::joinable!(invitation_codes -> workplaces (workplace_id));
diesel::joinable!(responses -> waves (wave_id));
diesel::joinable!(responses -> workplaces (workplace_id));
diesel::joinable!(comments -> waves (wave_id));
diesel::joinable!(frozen_results -> waves (wave_id));
diesel::joinable!(manager_scopes -> accounts (account_id));
diesel::joinable!(audit_log -> accounts (account_id));
diesel::joinable!(manager_scopes -> workplaces (workplace_id));
diesel::joinable!(action_plans -> waves (wave_id));
diesel::joinable!(action_plans -> workplaces (workplace_id));
diesel::joinable!(reporting_unit_members -> reporting_units (unit_id));
diesel::joinable!(reporting_unit_members -> workplaces (workplace_id));

diesel::allow_tables_to_appear_in_same_query!(
    workplaces,
    waves,
    invitation_codes,
    responses,
    comments,
    accounts,
    manager_scopes,
    action_plans,
    audit_log,
    reporting_units,
    reporting_unit_members,
    settings,
    frozen_results,
);
