use super::*;
use proptest::prelude::*;
use serde_json::json;

pub(crate) fn fixture(name: &str) -> Value {
    let path = format!(
        "{}/tests/fixtures/events/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn reads_every_fixture_with_its_source() {
    let cases = [
        (
            "user-migration-authentication",
            TriggerSource::UserMigrationAuthentication,
        ),
        (
            "user-migration-forgot-password",
            TriggerSource::UserMigrationForgotPassword,
        ),
        (
            "pre-sign-up",
            TriggerSource::PreSignUp(PreSignUpSource::SignUp),
        ),
        ("post-authentication", TriggerSource::PostAuthentication),
        (
            "token-generation-authentication",
            TriggerSource::TokenGeneration(TokenGenerationSource::Authentication),
        ),
        (
            "token-generation-v2",
            TriggerSource::TokenGeneration(TokenGenerationSource::RefreshTokens),
        ),
        (
            "custom-message",
            TriggerSource::Other("CustomMessage_SignUp".into()),
        ),
    ];
    for (name, source) in cases {
        let event = TriggerEvent::from_value(fixture(name)).unwrap();
        assert_eq!(event.source(), &source, "{name}");
        assert_eq!(
            event.source().as_str(),
            fixture(name)["triggerSource"],
            "{name}"
        );
    }
}

#[test]
fn every_known_source_round_trips() {
    for text in TriggerSource::KNOWN {
        let source = TriggerSource::parse(text);
        assert!(!matches!(source, TriggerSource::Other(_)), "{text}");
        assert_eq!(source.as_str(), text);
    }
}

#[test]
fn reads_the_typed_fields() {
    let event = TriggerEvent::from_value(fixture("user-migration-authentication")).unwrap();
    assert_eq!(event.user_name(), "Name@Acme.com");
    assert_eq!(event.user_pool_id(), Some("us-east-1_NewPool01"));
    assert_eq!(event.client_id(), Some("3n4b5urk1ft4fl3mg5e62d9ado"));
    assert_eq!(
        event.password().map(Password::expose),
        Some("canary-Pa55word!")
    );
    let forgot = TriggerEvent::from_value(fixture("user-migration-forgot-password")).unwrap();
    assert!(forgot.password().is_none());
    assert_eq!(
        forgot.client_metadata().get("app").map(String::as_str),
        Some("web")
    );
    let token = TriggerEvent::from_value(fixture("token-generation-v2")).unwrap();
    assert_eq!(token.groups_to_override(), ["new-pool-group"]);
}

#[test]
fn debug_and_display_never_show_the_password() {
    let event = TriggerEvent::from_value(fixture("user-migration-authentication")).unwrap();
    let debug = format!("{event:?}");
    let pretty = format!("{event:#?}");
    let display = event.to_string();
    for text in [&debug, &pretty, &display] {
        assert!(!text.contains("canary-Pa55word!"), "{text}");
    }
    assert!(debug.contains("<redacted>"));
    assert!(!display.contains("Name@Acme.com"));
    assert_eq!(
        display,
        "UserMigration_Authentication for N\u{2026}(13)@Acme.com"
    );
    assert_eq!(
        format!("{:?}", event.password().unwrap()),
        "Password(<redacted>)"
    );
}

#[test]
fn a_response_changes_only_the_response() {
    let original = fixture("user-migration-authentication");
    let event = TriggerEvent::from_value(original.clone()).unwrap();
    let mut fields = Map::new();
    fields.insert("finalUserStatus".into(), "CONFIRMED".into());
    let answered = event.with_response(fields);
    for (key, value) in original.as_object().unwrap() {
        if key != "response" {
            assert_eq!(&answered[key], value, "{key}");
        }
    }
    assert_eq!(answered["response"]["finalUserStatus"], "CONFIRMED");
    // Fields the answer does not set, including ones typed models lack, are echoed.
    assert!(
        answered["response"]
            .as_object()
            .unwrap()
            .contains_key("enableSMSMFA")
    );
    assert_eq!(answered["response"]["enableSMSMFA"], Value::Null);
    assert_eq!(event.unchanged(), original);
}

#[test]
fn unknown_fields_travel_back_verbatim() {
    let mut raw = fixture("user-migration-authentication");
    raw["request"]["somethingNew"] = json!({"nested": [1, 2, 3]});
    raw["futureTopLevel"] = json!(true);
    let event = TriggerEvent::from_value(raw.clone()).unwrap();
    let answered = event.with_response(Map::new());
    assert_eq!(
        answered["request"]["somethingNew"],
        raw["request"]["somethingNew"]
    );
    assert_eq!(answered["futureTopLevel"], true);
}

#[test]
fn malformed_events_name_the_field() {
    let cases = [
        (json!([]), EventError::NotAnObject),
        (json!("text"), EventError::NotAnObject),
        (
            json!({"userName": "a"}),
            EventError::Missing("triggerSource"),
        ),
        (
            json!({"triggerSource": null}),
            EventError::Missing("triggerSource"),
        ),
        (
            json!({"triggerSource": 7}),
            EventError::WrongType {
                field: "triggerSource",
                expected: "a string",
            },
        ),
        (
            json!({"triggerSource": "UserMigration_Authentication", "userName": 5}),
            EventError::WrongType {
                field: "userName",
                expected: "a string",
            },
        ),
        (
            json!({"triggerSource": "UserMigration_Authentication", "userName": "a", "request": []}),
            EventError::WrongType {
                field: "request",
                expected: "an object",
            },
        ),
        (
            json!({"triggerSource": "UserMigration_Authentication", "userName": "a", "request": {"password": 1}}),
            EventError::WrongType {
                field: "request.password",
                expected: "a string",
            },
        ),
        (
            json!({"triggerSource": "UserMigration_Authentication", "userName": "a", "request": {}}),
            EventError::Missing("request.password"),
        ),
        (
            json!({"triggerSource": "UserMigration_Authentication", "request": {"password": "p"}}),
            EventError::Missing("userName"),
        ),
        (
            json!({"triggerSource": "PreSignUp_SignUp", "userName": "a", "request": {"userAttributes": {"email": 3}}}),
            EventError::WrongType {
                field: "request.userAttributes",
                expected: "a map of strings",
            },
        ),
        (
            json!({"triggerSource": "PreSignUp_SignUp", "userName": "a", "callerContext": {"clientId": false}}),
            EventError::WrongType {
                field: "callerContext.clientId",
                expected: "a string",
            },
        ),
        (
            json!({"triggerSource": "PreSignUp_SignUp", "userName": "a", "response": "x"}),
            EventError::WrongType {
                field: "response",
                expected: "an object",
            },
        ),
    ];
    for (value, expected) in cases {
        assert_eq!(
            TriggerEvent::from_value(value.clone()).unwrap_err(),
            expected,
            "{value}"
        );
    }
    assert!(matches!(
        TriggerEvent::from_json_str("{not json"),
        Err(EventError::Json(_))
    ));
    assert_eq!(
        EventError::Missing("triggerSource").to_string(),
        "the event has no `triggerSource`"
    );
}

#[test]
fn masks_identifiers() {
    assert_eq!(mask_identifier("Name@Acme.com"), "N\u{2026}(13)@Acme.com");
    assert_eq!(mask_identifier("bob"), "b\u{2026}(3)");
    assert_eq!(mask_identifier(""), "\u{2026}(0)");
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        ".{0,8}".prop_map(Value::from),
        prop::sample::select(TriggerSource::KNOWN.to_vec()).prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(
                prop::sample::select(vec![
                    "triggerSource",
                    "userName",
                    "request",
                    "response",
                    "password",
                    "userAttributes",
                    "callerContext",
                    "clientId",
                    "groupConfiguration",
                    "groupsToOverride",
                    "x",
                ])
                .prop_map(str::to_owned),
                inner,
                0..6,
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #[test]
    fn arbitrary_json_never_panics(value in json_value()) {
        if let Ok(event) = TriggerEvent::from_value(value) {
            let _ = event.groups_to_override();
            let _ = event.with_response(Map::new());
            let _ = format!("{event:?} {event}");
        }
    }

    #[test]
    fn arbitrary_text_never_panics(text in ".{0,64}") {
        let _ = TriggerEvent::from_json_str(&text);
    }
}
