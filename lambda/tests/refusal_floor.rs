//! Refusals that look alike in time too: a disabled user (one ledger query), an unknown user (a
//! query and a legacy lookup), a wrong password (a query and a password check) and an ambiguous
//! pair (two checks and a ledger write) all come back no sooner than `REFUSAL_FLOOR_MS`;
//! approvals are not held.

mod support;

use std::time::{Duration, Instant};

use cognito_migrate_lambda::handler::handle;
use support::{PASSWORD, Stack, sign_in};

const FLOOR_MS: u64 = 1_000;
/// How far apart the medians of the kinds may be: the floor is a sleep, so only the scheduler
/// and the work past the floor separate them.
const MEDIAN_SPREAD_MS: u128 = 150;

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

#[tokio::test]
async fn every_kind_of_refusal_takes_the_floor_and_approvals_do_not() {
    let stack = Stack::new().await;
    let email = |name: &str| format!("{name}@acme.test");
    for name in ["dora", "wes", "Pat", "pat"] {
        let address = email(name);
        stack
            .create_user(
                name,
                &[("email", address.as_str()), ("email_verified", "true")],
                PASSWORD,
            )
            .await;
    }
    stack
        .create_user(
            "ann",
            &[("email", "ann@acme.test"), ("email_verified", "true")],
            "Ann-Own-Pass-1",
        )
        .await;
    stack.disable_user("dora").await;
    stack.index().await;
    let floor = FLOOR_MS.to_string();
    let deps = stack
        .deps(&[
            ("REFUSAL_FLOOR_MS", floor.as_str()),
            ("DEADLINE_MS", "3500"),
        ])
        .await;

    let kinds: [(&str, &str, &str); 4] = [
        ("disabled", "dora", PASSWORD),
        ("unknown", "nobody@acme.test", PASSWORD),
        ("wrong password", "wes", "not-the-password"),
        ("ambiguous", "pat", PASSWORD),
    ];
    let mut medians = Vec::new();
    for (kind, user, password) in kinds {
        let mut times = Vec::new();
        for _ in 0..3 {
            let started = Instant::now();
            let response = handle(&deps, sign_in(user, password)).await.unwrap();
            times.push(started.elapsed());
            assert!(
                response["response"]["finalUserStatus"].is_null(),
                "{kind} was approved"
            );
        }
        assert!(
            times.iter().all(|t| t.as_millis() >= u128::from(FLOOR_MS)),
            "{kind} came back before the floor: {times:?}"
        );
        medians.push((kind, median(times)));
    }
    let fastest = medians.iter().map(|(_, m)| m.as_millis()).min().unwrap();
    let slowest = medians.iter().map(|(_, m)| m.as_millis()).max().unwrap();
    assert!(
        slowest - fastest <= MEDIAN_SPREAD_MS,
        "medians differ by more than {MEDIAN_SPREAD_MS} ms: {medians:?}"
    );

    let started = Instant::now();
    let response = handle(&deps, sign_in("ann", "Ann-Own-Pass-1"))
        .await
        .unwrap();
    assert_eq!(response["response"]["finalUserStatus"], "CONFIRMED");
    assert!(
        started.elapsed().as_millis() < u128::from(FLOOR_MS),
        "an approval was held to the floor"
    );
}
