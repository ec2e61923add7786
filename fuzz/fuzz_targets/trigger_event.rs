//! The trigger event parser never panics, and a parsed event's `unchanged()` is the event as
//! received: equal to the JSON read, and its text read again gives the same event.
//!
//! Numbers with a fraction or exponent are left out of the text round trip: `serde_json`, without
//! its `float_roundtrip` feature, may read the shortest text of a float back one unit in the
//! last place away.
#![no_main]

use cognito_migrate_core::event::{TriggerEvent, mask_identifier};
use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(event) = TriggerEvent::from_json_str(text) else {
        return;
    };
    let received: Value = serde_json::from_str(text).expect("the parser accepted it as JSON");
    let unchanged = event.unchanged();
    assert_eq!(unchanged, received, "unchanged() is the event as received");

    let again = TriggerEvent::from_value(unchanged.clone()).expect("an accepted event reads again");
    assert_eq!(again.unchanged(), unchanged);
    assert_eq!(again.source(), event.source());
    assert_eq!(again.user_name(), event.user_name());
    assert_eq!(again.password(), event.password());
    assert_eq!(again.user_attributes(), event.user_attributes());

    let echoed =
        TriggerEvent::from_json_str(&unchanged.to_string()).expect("the echoed text reads again");
    if !has_float(&unchanged) {
        assert_eq!(
            echoed.unchanged(),
            unchanged,
            "the echoed text is the event"
        );
    }
    assert_eq!(echoed.source(), event.source());
    assert_eq!(echoed.user_name(), event.user_name());
    assert_eq!(echoed.user_attributes(), event.user_attributes());
    assert_eq!(echoed.validation_data(), event.validation_data());
    assert_eq!(echoed.client_metadata(), event.client_metadata());

    // Setting response fields echoes every other field verbatim.
    let mut fields = Map::new();
    fields.insert("finalUserStatus".into(), Value::from("CONFIRMED"));
    let answered = event.with_response(fields);
    let (Value::Object(answered), Value::Object(received)) = (&answered, &received) else {
        panic!("an event is an object");
    };
    for (key, value) in received {
        if key != "response" {
            assert_eq!(answered.get(key), Some(value), "`{key}` is echoed");
        }
    }
    assert_eq!(
        answered
            .get("response")
            .and_then(|r| r.get("finalUserStatus")),
        Some(&Value::from("CONFIRMED"))
    );

    let _ = (format!("{event} {event:?}"), event.groups_to_override());
    let _ = mask_identifier(event.user_name());
});

fn has_float(value: &Value) -> bool {
    match value {
        Value::Number(n) => n.is_f64(),
        Value::Array(items) => items.iter().any(has_float),
        Value::Object(map) => map.values().any(has_float),
        Value::Null | Value::Bool(_) | Value::String(_) => false,
    }
}
