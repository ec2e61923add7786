//! Reading a Lambda resource policy: may Cognito invoke the function for this pool?

use serde_json::Value;

const COGNITO: &str = "cognito-idp.amazonaws.com";

/// What the resource policy says about invocations by Cognito.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Permission {
    /// A statement lets Cognito invoke the function for this pool; `source` is its `SourceArn`
    /// pattern (`None`: any pool, in any account).
    Allowed {
        /// The statement's `Sid`.
        sid: String,
        /// The `SourceArn` the statement is limited to.
        source: Option<String>,
    },
    /// Statements let Cognito invoke the function, but only for these other `SourceArn`s.
    OtherSources(Vec<String>),
    /// No statement lets Cognito invoke the function.
    Missing,
}

/// Judges `policy` (the JSON of `GetPolicy`) for invocations coming from `pool_arn`.
pub(crate) fn cognito_may_invoke(policy: &Value, pool_arn: &str) -> Permission {
    let statements: Vec<&Value> = match policy.get("Statement") {
        Some(Value::Array(list)) => list.iter().collect(),
        Some(single @ Value::Object(_)) => vec![single],
        _ => Vec::new(),
    };
    let mut others = Vec::new();
    for statement in statements {
        let allows = statement.get("Effect").and_then(Value::as_str) == Some("Allow");
        if !(allows && invokes(statement.get("Action")) && from_cognito(statement.get("Principal")))
        {
            continue;
        }
        let sid = statement
            .get("Sid")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let sources = source_arns(statement.get("Condition"));
        if sources.is_empty() {
            return Permission::Allowed { sid, source: None };
        }
        if let Some(source) = sources.iter().find(|pattern| arn_like(pattern, pool_arn)) {
            return Permission::Allowed {
                sid,
                source: Some(source.clone()),
            };
        }
        others.extend(sources);
    }
    if others.is_empty() {
        Permission::Missing
    } else {
        Permission::OtherSources(others)
    }
}

fn strings(value: Option<&Value>) -> Vec<&str> {
    match value {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(list)) => list.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

fn invokes(action: Option<&Value>) -> bool {
    strings(action).iter().any(|a| {
        ["lambda:InvokeFunction", "lambda:*", "*"]
            .iter()
            .any(|granting| a.eq_ignore_ascii_case(granting))
    })
}

fn from_cognito(principal: Option<&Value>) -> bool {
    match principal {
        Some(Value::String(any)) => any == "*",
        Some(Value::Object(map)) => strings(map.get("Service")).contains(&COGNITO),
        _ => false,
    }
}

/// Every `aws:SourceArn` value under any condition operator (`ArnLike`, `ArnEquals`,
/// `StringEquals`...); condition keys are case-insensitive.
fn source_arns(condition: Option<&Value>) -> Vec<String> {
    let Some(Value::Object(operators)) = condition else {
        return Vec::new();
    };
    operators
        .values()
        .filter_map(Value::as_object)
        .flat_map(|keys| keys.iter())
        .filter(|(key, _)| key.eq_ignore_ascii_case("aws:SourceArn"))
        .flat_map(|(_, value)| strings(Some(value)))
        .map(str::to_owned)
        .collect()
}

/// `ArnLike` matching: `*` any run of characters, `?` one character.
fn arn_like(pattern: &str, arn: &str) -> bool {
    let (pattern, arn): (Vec<char>, Vec<char>) = (pattern.chars().collect(), arn.chars().collect());
    // Classic two-pointer glob with backtracking to the last `*`.
    let (mut p, mut a) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while a < arn.len() {
        match pattern.get(p) {
            Some('*') => {
                star = Some((p, a));
                p += 1;
            }
            Some(&c) if c == '?' || c == arn[a] => {
                p += 1;
                a += 1;
            }
            _ => match star {
                Some((star_p, star_a)) => {
                    p = star_p + 1;
                    a = star_a + 1;
                    star = Some((star_p, star_a + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const POOL: &str = "arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_New";

    #[expect(
        clippy::needless_pass_by_value,
        reason = "owned values keep the test builders as plain as the JSON they write"
    )]
    fn policy(statement: Value) -> Value {
        json!({"Version": "2012-10-17", "Statement": [statement]})
    }

    #[expect(
        clippy::needless_pass_by_value,
        reason = "owned values keep the test builders as plain as the JSON they write"
    )]
    fn cognito_statement(condition: Value) -> Value {
        json!({
            "Sid": "cognito",
            "Effect": "Allow",
            "Principal": {"Service": "cognito-idp.amazonaws.com"},
            "Action": "lambda:InvokeFunction",
            "Resource": "arn:aws:lambda:us-east-1:123456789012:function:trigger",
            "Condition": condition,
        })
    }

    #[test]
    fn accepts_the_pool_by_exact_arn_or_pattern() {
        for condition in [
            json!({"ArnLike": {"AWS:SourceArn": POOL}}),
            json!({"ArnEquals": {"aws:sourcearn": [POOL]}}),
            json!({"ArnLike": {"AWS:SourceArn": "arn:aws:cognito-idp:us-east-1:123456789012:userpool/*"}}),
        ] {
            assert!(
                matches!(
                    cognito_may_invoke(&policy(cognito_statement(condition.clone())), POOL),
                    Permission::Allowed {
                        source: Some(_),
                        ..
                    }
                ),
                "{condition}"
            );
        }
    }

    #[test]
    fn an_unconditioned_statement_allows_any_pool() {
        let mut statement = cognito_statement(Value::Null);
        statement.as_object_mut().unwrap().remove("Condition");
        assert_eq!(
            cognito_may_invoke(&policy(statement), POOL),
            Permission::Allowed {
                sid: "cognito".into(),
                source: None
            }
        );
    }

    #[test]
    fn names_the_other_pool_it_is_limited_to() {
        let other = "arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_Old";
        let statement = cognito_statement(json!({"ArnLike": {"AWS:SourceArn": other}}));
        assert_eq!(
            cognito_may_invoke(&policy(statement), POOL),
            Permission::OtherSources(vec![other.into()])
        );
    }

    #[test]
    fn ignores_other_principals_actions_and_denials() {
        let mut wrong_service = cognito_statement(Value::Null);
        wrong_service["Principal"] = json!({"Service": "s3.amazonaws.com"});
        let mut wrong_action = cognito_statement(Value::Null);
        wrong_action["Action"] = json!("lambda:GetFunction");
        let mut denial = cognito_statement(Value::Null);
        denial["Effect"] = json!("Deny");
        for statement in [wrong_service, wrong_action, denial] {
            let mut statement = statement;
            statement.as_object_mut().unwrap().remove("Condition");
            assert_eq!(
                cognito_may_invoke(&policy(statement), POOL),
                Permission::Missing
            );
        }
    }

    #[test]
    fn arn_like_globs() {
        assert!(arn_like("a*c", "abbbc"));
        assert!(arn_like("a?c", "abc"));
        assert!(arn_like("*", ""));
        assert!(!arn_like("a*c", "abd"));
        assert!(!arn_like("abc", "abcd"));
    }
}
