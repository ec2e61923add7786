//! Reading the files an operator hands to `simulate`: trigger events (plain, or captured from
//! `CloudWatch` Logs) and legacy users in the shapes the AWS CLI prints; opening the export
//! `audit` reads as a stream.

use std::io::Read;
use std::path::Path;

use cognito_migrate_core::ledger::{LedgerEntry, MigrationState};
use cognito_migrate_core::user::LegacyUser;
use serde_json::Value;

use crate::BadInput;

/// Reads a whole file, naming it on failure.
pub fn read_text(path: &Path) -> Result<String, BadInput> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| BadInput(format!("{}: cannot be read: {e}", path.display())))?;
    Ok(text
        .strip_prefix('\u{feff}')
        .map(str::to_owned)
        .unwrap_or(text))
}

/// Opens `path` for reading, or standard input for `-`; with the name messages give it.
pub fn open_stream(path: &Path) -> Result<(Box<dyn Read + Send>, String), BadInput> {
    if path == Path::new("-") {
        return Ok((Box::new(std::io::stdin()), "standard input".to_owned()));
    }
    let file = std::fs::File::open(path)
        .map_err(|e| BadInput(format!("{}: cannot be read: {e}", path.display())))?;
    Ok((Box::new(file), path.display().to_string()))
}

/// An event found in a file, and how it was found.
#[derive(Debug)]
pub struct FoundEvent {
    /// The event object.
    pub value: Value,
    /// How it was found, when not as the whole file.
    pub note: Option<String>,
}

/// Finds the trigger event in `text`: the whole text, an object inside it (a structured log
/// record, possibly as an escaped string), or the first event in a log line such as
/// `2024-05-01T12:00:00Z <request id> INFO {...}`.
pub fn find_event(path: &Path, text: &str) -> Result<FoundEvent, BadInput> {
    match serde_json::from_str::<Value>(text) {
        Ok(value) => {
            if is_event(&value) {
                return Ok(FoundEvent { value, note: None });
            }
            nested_event(&value)
                .map(|value| FoundEvent {
                    value,
                    note: Some("the event was found inside the JSON record (a structured log line).".to_owned()),
                })
                .ok_or_else(|| {
                    BadInput(format!(
                        "{}: valid JSON, but no trigger event in it (no object with a `triggerSource`)",
                        path.display()
                    ))
                })
        }
        Err(whole) => {
            for (start, _) in text.match_indices('{') {
                let mut values =
                    serde_json::Deserializer::from_str(&text[start..]).into_iter::<Value>();
                if let Some(Ok(value)) = values.next()
                    && let Some(event) = if is_event(&value) {
                        Some(value)
                    } else {
                        nested_event(&value)
                    }
                {
                    let line = line_of(text, start);
                    return Ok(FoundEvent {
                        value: event,
                        note: Some(format!(
                            "the event was read from a log line (line {line} of the file)."
                        )),
                    });
                }
            }
            Err(BadInput(format!(
                "{}: not valid JSON: {whole}",
                path.display()
            )))
        }
    }
}

fn is_event(value: &Value) -> bool {
    value.get("triggerSource").is_some_and(Value::is_string)
}

fn nested_event(value: &Value) -> Option<Value> {
    match value {
        Value::Object(map) => map.values().find_map(|v| {
            if is_event(v) {
                Some(v.clone())
            } else {
                nested_event(v)
            }
        }),
        Value::Array(items) => items.iter().find_map(|v| {
            if is_event(v) {
                Some(v.clone())
            } else {
                nested_event(v)
            }
        }),
        Value::String(s) if s.trim_start().starts_with('{') => {
            let start = s.find('{')?;
            let inner = serde_json::Deserializer::from_str(&s[start..])
                .into_iter::<Value>()
                .next()?
                .ok()?;
            if is_event(&inner) {
                Some(inner)
            } else {
                nested_event(&inner)
            }
        }
        _ => None,
    }
}

/// The 1-based line of a byte offset.
fn line_of(text: &str, offset: usize) -> usize {
    text.get(..offset)
        .map_or(0, |before| before.matches('\n').count())
        + 1
}

/// Reads legacy users: `list-users` output (`{"Users": [...]}`, one or several pages), a JSON
/// array of users or pages, an `admin-get-user` object, or one user per line. A user object may
/// carry a ledger `state` (`"pending"` or the ledger's `{"state": "migrated", "newUsername":
/// ..., "atMs": ...}`); a ledger entry (`{"user": {...}, "state": {...}}`) is read as such.
pub fn read_users(path: &Path) -> Result<Vec<LedgerEntry>, BadInput> {
    let text = read_text(path)?;
    let mut entries = Vec::new();
    let mut values = serde_json::Deserializer::from_str(&text).into_iter::<Value>();
    let mut start = 0;
    while let Some(next) = values.next() {
        let value =
            next.map_err(|e| BadInput(format!("{}: not valid JSON: {e}", path.display())))?;
        let line = line_of(
            &text,
            start + text[start..].len() - text[start..].trim_start().len(),
        );
        collect(&value, &format!("the value at line {line}"), &mut entries)
            .map_err(|problem| BadInput(format!("{}: {problem}", path.display())))?;
        start = values.byte_offset();
    }
    if entries.is_empty() {
        return Err(BadInput(format!("{}: no user in it", path.display())));
    }
    Ok(entries)
}

fn collect(value: &Value, at: &str, out: &mut Vec<LedgerEntry>) -> Result<(), String> {
    match value {
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                collect(item, &format!("{at}, item {i}"), out)?;
            }
            Ok(())
        }
        Value::Object(map) if map.get("Users").is_some_and(Value::is_array) => {
            collect(&map["Users"], &format!("{at}, `Users`"), out)
        }
        Value::Object(map) if map.get("user").is_some_and(Value::is_object) => {
            let entry: LedgerEntry = serde_json::from_value(value.clone())
                .map_err(|e| format!("{at}: not a ledger entry: {e}"))?;
            out.push(entry);
            Ok(())
        }
        Value::Object(map) if map.contains_key("Username") => {
            let user = LegacyUser::from_aws_json(value).map_err(|e| format!("{at}: {e}"))?;
            let state = match map.get("state") {
                None | Some(Value::Null) => MigrationState::Pending,
                Some(Value::String(word)) if word == "pending" => MigrationState::Pending,
                Some(state) => serde_json::from_value(state.clone())
                    .map_err(|e| format!("{at}: `state` is not a ledger state ({e}); use \"pending\" or {{\"state\": \"migrated\", \"newUsername\": ..., \"atMs\": ...}}"))?,
            };
            let groups_copied = map
                .get("groupsCopied")
                .and_then(Value::as_bool)
                .unwrap_or(false);
            out.push(LedgerEntry {
                user,
                state,
                groups_copied,
                groups_copied_at_ms: None,
            });
            Ok(())
        }
        _ => Err(format!(
            "{at}: neither a user (no `Username`), a ledger entry (no `user`) nor a `Users` list"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn users_from(text: &str) -> Result<Vec<LedgerEntry>, BadInput> {
        let dir =
            std::env::temp_dir().join(format!("cognito-migrate-input-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!(
            "{:x}.json",
            text.len() * 31 + text.bytes().map(usize::from).sum::<usize>()
        ));
        std::fs::write(&path, text).unwrap();
        let result = read_users(&path);
        std::fs::remove_file(&path).unwrap();
        result
    }

    #[test]
    fn reads_every_accepted_shape() {
        let page = r#"{"Users": [{"Username": "a", "Attributes": [{"Name": "sub", "Value": "1"}]}, {"Username": "b"}]}"#;
        assert_eq!(users_from(page).unwrap().len(), 2);
        assert_eq!(users_from(&format!("{page}\n{page}")).unwrap().len(), 4);
        assert_eq!(
            users_from(r#"[{"Username": "a"}, {"Users": [{"Username": "b"}]}]"#)
                .unwrap()
                .len(),
            2
        );
        let get_user = r#"{"Username": "a", "UserAttributes": [{"Name": "email", "Value": "A@x.com"}], "UserMFASettingList": ["SMS_MFA"]}"#;
        let one = users_from(get_user).unwrap();
        assert_eq!(one[0].user.email(), Some("A@x.com"));
        assert!(one[0].user.mfa.sms);
        let ndjson = "{\"Username\": \"a\"}\n{\"Username\": \"b\", \"state\": {\"state\": \"migrated\", \"newUsername\": \"b\", \"atMs\": 1}}\n";
        let two = users_from(ndjson).unwrap();
        assert!(two[1].state.is_done());
        let entry =
            r#"{"user": {"username": "a", "status": "CONFIRMED"}, "state": {"state": "pending"}}"#;
        assert_eq!(users_from(entry).unwrap()[0].user.username, "a");
    }

    #[test]
    fn says_where_the_input_is_wrong() {
        let err = users_from("{\"Users\": [\n{\"Username\": \"a\",}\n]}")
            .unwrap_err()
            .0;
        assert!(err.contains("line 2 column"), "{err}");
        let err = users_from("{\"Username\": \"a\"}\n{\"Name\": \"b\"}\n")
            .unwrap_err()
            .0;
        assert!(err.contains("the value at line 2"), "{err}");
        let err = users_from("{\"Username\": \"a\", \"state\": \"gone\"}")
            .unwrap_err()
            .0;
        assert!(err.contains("`state` is not a ledger state"), "{err}");
    }

    #[test]
    fn finds_events_in_log_lines_and_records() {
        let path = Path::new("e.log");
        let line = "2024-05-01T12:00:00.000Z\tabc\tINFO\tevent {\"triggerSource\": \"UserMigration_Authentication\", \"request\": {\"password\": \"***\"}} trailing";
        let found = find_event(path, line).unwrap();
        assert_eq!(found.value["request"]["password"], "***");
        assert!(found.note.unwrap().contains("log line"));
        let record = r#"{"level": "INFO", "message": "{\"triggerSource\": \"PreSignUp_SignUp\"}"}"#;
        assert_eq!(
            find_event(path, record).unwrap().value["triggerSource"],
            "PreSignUp_SignUp"
        );
        let err = find_event(path, "{\"a\": 1,\n \"b\" 2}").unwrap_err().0;
        assert!(
            err.contains("e.log: not valid JSON") && err.contains("line 2 column"),
            "{err}"
        );
    }
}
