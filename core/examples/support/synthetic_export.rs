//! A deterministic, realistic `aws cognito-idp list-users` export of any size, for the audit
//! benchmark and the memory example (included by `#[path]`; not an example of its own).
//!
//! Laid out as the AWS CLI prints it (one page, four-space indentation, about 760 bytes a
//! user). Mixes e-mail usernames with UUID usernames, mixed case, some tricky Unicode, and the
//! categories in plausible shares; every 500th user reuses an earlier e-mail in another case,
//! and every 2,000th an earlier name in another Unicode form, so the audit finds collisions.

use std::fmt::Write as _;

/// Small, fast and reproducible (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// True with probability `per_mille` / 1000.
    fn chance(&mut self, per_mille: u64) -> bool {
        self.next() % 1000 < per_mille
    }

    fn uuid(&mut self) -> String {
        let a = self.next();
        let b = self.next();
        format!(
            "{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xfff,
            b >> 52,
            b & 0xffff_ffff_ffff
        )
    }
}

const FIRST: [&str; 12] = [
    "anna", "ben", "chloe", "david", "emma", "felix", "grace", "hugo", "iris", "jonas", "kim",
    "liam",
];
/// Names that fold, decompose or change case in ways ASCII lowercasing does not.
const TRICKY: [&str; 8] = [
    "Jürgen",
    "STRASSE",
    "Ǆemal",
    "Ｍａｒｉａ",
    "ﬁona",
    "Zoë",
    "İlkay",
    "ΣΟΦΙΑ",
];
/// The same names in another form: each has the same match key as its `TRICKY` partner.
const TRICKY_TWIN: [&str; 8] = [
    "jÜrgen",
    "straße",
    "ǆemal",
    "maria",
    "fiona",
    "zoe\u{308}",
    "i\u{307}lkay",
    "σοφια",
];
const DOMAINS: [&str; 4] = [
    "example.com",
    "acme.test",
    "mail.example.org",
    "corp.example",
];

fn email_of(i: usize, rng: &mut Rng) -> String {
    let first = FIRST[i % FIRST.len()];
    let domain = DOMAINS[(i / FIRST.len()) % DOMAINS.len()];
    let local = if rng.chance(10) {
        format!("{}.{i}", TRICKY[i % TRICKY.len()])
    } else {
        format!("{first}.{i}")
    };
    if rng.chance(100) {
        // Mixed case, as people type it.
        let mut mixed = String::new();
        for (n, c) in format!("{local}@{domain}").chars().enumerate() {
            if n == 0 || n % 5 == 0 {
                mixed.extend(c.to_uppercase());
            } else {
                mixed.push(c);
            }
        }
        mixed
    } else {
        format!("{local}@{domain}")
    }
}

/// Writes the export for `users` users to `sink`, a piece at a time.
pub fn write_export(users: usize, mut sink: impl FnMut(&str)) {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    // The last 256 addresses, enough to reach back 250 users.
    let mut recent: Vec<String> = vec![String::new(); 256];
    let mut piece = String::with_capacity(1024);
    sink("{\n    \"Users\": [\n");
    for i in 0..users {
        piece.clear();
        let email = if i % 500 == 499 {
            // An earlier user's address with its case flipped: a collision.
            recent[(i - 250) % 256].to_uppercase()
        } else if i % 2000 == 1998 {
            let twin = TRICKY_TWIN[(i / 2000) % TRICKY_TWIN.len()];
            format!("{twin}.{}@{}", i - 1000, DOMAINS[0])
        } else {
            email_of(i, &mut rng)
        };
        let email = if i % 2000 == 998 {
            // The partner of the twin written 1,000 users later.
            let tricky = TRICKY[((i + 1000) / 2000) % TRICKY.len()];
            format!("{tricky}.{i}@{}", DOMAINS[0])
        } else {
            email
        };
        recent[i % 256].clone_from(&email);
        let uuid_username = rng.chance(400);
        let username = if uuid_username {
            rng.uuid()
        } else {
            email.clone()
        };
        let sub = rng.uuid();
        let verified = if rng.chance(900) { "true" } else { "false" };
        let status = match rng.next() % 1000 {
            0..=29 => "UNCONFIRMED",
            30..=59 => "FORCE_CHANGE_PASSWORD",
            60..=79 => "RESET_REQUIRED",
            80..=89 => "EXTERNAL_PROVIDER",
            90..=91 => "COMPROMISED",
            _ => "CONFIRMED",
        };
        let enabled = !rng.chance(20);
        let day = 1 + (i % 28);
        let month = 1 + (i / 28) % 12;

        piece.push_str("        {\n");
        let _ = writeln!(piece, "            \"Username\": \"{username}\",");
        piece.push_str("            \"Attributes\": [\n");
        let mut attributes: Vec<(&str, String)> =
            vec![("sub", sub), ("email_verified", verified.to_owned())];
        if rng.chance(300) {
            attributes.push(("phone_number", format!("+1555{:07}", i % 10_000_000)));
        }
        if status == "EXTERNAL_PROVIDER" {
            attributes.push((
                "identities",
                "[{\\\"userId\\\":\\\"1\\\",\\\"providerName\\\":\\\"Google\\\"}]".to_owned(),
            ));
        }
        attributes.push(("email", email));
        for (n, (name, value)) in attributes.iter().enumerate() {
            let comma = if n + 1 == attributes.len() { "" } else { "," };
            let _ = write!(
                piece,
                "                {{\n                    \"Name\": \"{name}\",\n                    \
                 \"Value\": \"{value}\"\n                }}{comma}\n"
            );
        }
        piece.push_str("            ],\n");
        let _ = writeln!(
            piece,
            "            \"UserCreateDate\": \"2021-{month:02}-{day:02}T10:00:00.123000+00:00\","
        );
        let _ = writeln!(
            piece,
            "            \"UserLastModifiedDate\": \"2023-{month:02}-{day:02}T08:30:00.456000+00:00\","
        );
        let _ = writeln!(piece, "            \"Enabled\": {enabled},");
        if rng.chance(30) {
            piece.push_str(
                "            \"MFAOptions\": [\n                {\n                    \
                 \"DeliveryMedium\": \"SMS\",\n                    \
                 \"AttributeName\": \"phone_number\"\n                }\n            ],\n",
            );
        }
        let _ = writeln!(piece, "            \"UserStatus\": \"{status}\"");
        piece.push_str(if i + 1 == users {
            "        }\n"
        } else {
            "        },\n"
        });
        sink(&piece);
    }
    sink("    ]\n}\n");
}

/// The whole export as one string.
pub fn synthetic_export(users: usize) -> String {
    let mut text = String::with_capacity(users * 780 + 64);
    write_export(users, |piece| text.push_str(piece));
    text
}
