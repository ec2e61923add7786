use proptest::prelude::*;

use super::*;

fn header() -> CsvHeader {
    CsvHeader::parse(include_str!(
        "../../../tests/fixtures/finish/csv-header.csv"
    ))
    .unwrap()
}

fn attrs(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn verified(extra: &[(&str, &str)]) -> BTreeMap<String, String> {
    let mut a = attrs(&[("email", "a@acme.com"), ("email_verified", "true")]);
    a.extend(attrs(extra));
    a
}

fn user(name: &str, attributes: BTreeMap<String, String>, sms_mfa: bool) -> CsvUser {
    CsvUser {
        username: name.to_owned(),
        attributes,
        sms_mfa,
    }
}

/// Reads a line back as Cognito's format defines it: split on commas not preceded by a
/// backslash, then `\,` is a comma.
fn cells(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cell = String::new();
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&',') => {
                cell.push(',');
                chars.next();
            }
            ',' => out.push(std::mem::take(&mut cell)),
            c => cell.push(c),
        }
    }
    out.push(cell);
    out
}

fn lines(text: &str) -> Vec<&str> {
    let body = text.strip_suffix("\r\n").expect("every line ends in CRLF");
    body.split("\r\n").collect()
}

fn column(header: &CsvHeader, name: &str) -> usize {
    header.columns().iter().position(|c| c == name).unwrap()
}

#[test]
fn the_header_must_have_the_columns_cognito_requires() {
    assert_eq!(header().columns().len(), 23);
    assert_eq!(
        CsvHeader::new([
            "cognito:username",
            "email_verified",
            "phone_number_verified"
        ]),
        Err(CsvError::MissingColumn("cognito:mfa_enabled".into()))
    );
    assert_eq!(
        CsvHeader::new([
            "cognito:username",
            "cognito:username",
            "cognito:mfa_enabled"
        ]),
        Err(CsvError::DuplicateColumn("cognito:username".into()))
    );
    for bad in [
        "custom:a,b",
        "custom:\"q\"",
        "custom:a\\b",
        " email",
        "",
        "custom:x\n",
    ] {
        assert_eq!(
            CsvHeader::new([
                "cognito:username",
                "cognito:mfa_enabled",
                "email_verified",
                "phone_number_verified",
                bad
            ]),
            Err(CsvError::UnwritableColumn(bad.into())),
            "{bad:?}"
        );
    }
}

#[test]
fn a_saved_header_with_a_byte_order_mark_and_quotes_reads_the_same() {
    let plain = header();
    let saved = format!("\u{feff}\"{}\"\r\n", plain.columns().join("\",\""));
    assert_eq!(CsvHeader::parse(&saved).unwrap(), plain);
}

#[test]
fn a_small_file_with_tricky_values() {
    let header = header();
    let users = vec![
        user(
            "name@acme.com",
            attrs(&[
                ("email", "Name@Acme.com"),
                ("email_verified", "true"),
                ("name", "Doe, Jane"),
                ("address", "1 Main St, Flat 2, Springfield"),
                ("birthdate", "1984-07-09"),
                ("updated_at", "1551434400"),
                ("custom:legacy_sub", "0a1b"),
                ("custom:legacy_username", "Name@Acme.com"),
                ("custom:not_in_pool", "dropped"),
            ]),
            false,
        ),
        user(
            "+15550100",
            attrs(&[
                ("phone_number", "+15550100"),
                ("phone_number_verified", "true"),
                ("email", "unverified@acme.com"),
                ("email_verified", "false"),
                ("website", "https://acme.com/a,b,,c"),
            ]),
            true,
        ),
        user(
            "straße",
            attrs(&[
                ("email", "straße@acme.com"),
                ("email_verified", "true"),
                ("nickname", "ünïcödé 🎉, 名前"),
                ("updated_at", "2019-03-01T10:00:00.999Z"),
            ]),
            // SMS MFA without a phone number: imported with MFA off.
            true,
        ),
        user("jd", verified(&[("name", "Jane \"JD\" Doe")]), false),
        user("path", verified(&[("profile", "C:\\Users\\jd")]), false),
        user("two lines", verified(&[]), false),
        user(
            "multi",
            verified(&[("address", "1 Main St\nFlat 2")]),
            false,
        ),
        user("padded", verified(&[("nickname", "jd ")]), false),
        user("old", verified(&[("birthdate", "0000-07-09")]), false),
        user("when", verified(&[("updated_at", "last tuesday")]), false),
        user("nobody", attrs(&[("email", "x@acme.com")]), false),
    ];
    let import = write_files(&header, users, MAX_USERS_PER_FILE, MAX_BYTES_PER_FILE);
    assert_eq!(import.files.len(), 1);
    let text = &import.files[0].text;
    assert!(
        !text.as_bytes().starts_with(b"\xEF\xBB\xBF"),
        "no byte order mark"
    );
    assert!(!text.contains('"'), "never a quotation mark");
    insta::assert_snapshot!(text);
    insta::assert_json_snapshot!("unwritable_users", import.unwritable);
    assert_eq!(
        import.files[0].usernames,
        ["name@acme.com", "+15550100", "straße"]
    );

    let table: Vec<Vec<String>> = lines(text).into_iter().map(cells).collect();
    assert_eq!(table.len(), 4);
    for row in &table {
        assert_eq!(row.len(), header.columns().len(), "every column, every row");
    }
    assert_eq!(table[0], header.columns());
    let at = |row: usize, name: &str| table[row][column(&header, name)].as_str();
    assert_eq!(at(1, "name"), "Doe, Jane");
    assert_eq!(at(1, "address"), "1 Main St, Flat 2, Springfield");
    assert_eq!(at(1, "birthdate"), "07/09/1984");
    assert_eq!(at(1, "updated_at"), "1551434400");
    assert_eq!(at(1, "cognito:mfa_enabled"), "false");
    assert_eq!(at(2, "website"), "https://acme.com/a,b,,c");
    assert_eq!(at(2, "cognito:mfa_enabled"), "true");
    assert_eq!(at(2, "email_verified"), "false");
    assert_eq!(at(2, "phone_number_verified"), "true");
    assert_eq!(at(3, "nickname"), "ünïcödé 🎉, 名前");
    assert_eq!(at(3, "updated_at"), "1551434400");
    assert_eq!(at(3, "cognito:mfa_enabled"), "false");
    assert_eq!(at(3, "phone_number_verified"), "false");
}

#[test]
fn commas_are_escaped_and_nothing_else_is() {
    let header = CsvHeader::new([
        "cognito:username",
        "name",
        "email",
        "email_verified",
        "phone_number_verified",
        "cognito:mfa_enabled",
    ])
    .unwrap();
    let row = |name: &str| header.row("u,1", &verified(&[("name", name)]), false);
    assert_eq!(
        row("Doe, Jane").unwrap(),
        r"u\,1,Doe\, Jane,a@acme.com,true,false,false"
    );
    assert_eq!(row(",,").unwrap(), r"u\,1,\,\,,a@acme.com,true,false,false");
    assert_eq!(
        row("a;b|c'd").unwrap(),
        "u\\,1,a;b|c'd,a@acme.com,true,false,false"
    );
    assert_eq!(
        row("Zoë Ĳssel 日本 👩‍💻").unwrap(),
        "u\\,1,Zoë Ĳssel 日本 👩‍💻,a@acme.com,true,false,false"
    );
    assert_eq!(row("").unwrap(), r"u\,1,,a@acme.com,true,false,false");
}

#[test]
fn values_the_format_cannot_carry_are_refused() {
    let header = header();
    let refused = |name: &str| {
        header
            .row("u", &verified(&[("name", name)]), false)
            .unwrap_err()
    };
    let column = || "name".to_owned();
    for value in ["a\\b", "trailing\\", "\\,", "\\"] {
        assert_eq!(
            refused(value),
            Unwritable::Backslash { column: column() },
            "{value:?}"
        );
    }
    for value in ["\"", "say \"hi\"", "\"quoted\""] {
        assert_eq!(
            refused(value),
            Unwritable::DoubleQuote { column: column() },
            "{value:?}"
        );
    }
    for value in [
        "a\nb",
        "a\r\nb",
        "a\rb",
        "a\u{85}b",
        "a\u{2028}b",
        "a\u{2029}b",
        "a\u{b}b",
    ] {
        assert_eq!(
            refused(value),
            Unwritable::LineBreak { column: column() },
            "{value:?}"
        );
    }
    for value in [
        " a",
        "a ",
        "\ta",
        "a\u{a0}",
        "\u{3000}a",
        "\u{200b}a",
        "a\u{feff}",
        "\u{0}a",
        " ",
    ] {
        assert_eq!(
            refused(value),
            Unwritable::SurroundingWhiteSpace { column: column() },
            "{value:?}"
        );
    }
    // White space inside a value survives trimming.
    assert!(
        header
            .row("u", &verified(&[("name", "Jane  Doe\tJr")]), false)
            .is_ok()
    );
}

#[test]
fn usernames_with_white_space_are_refused() {
    let header = header();
    let a = verified(&[]);
    for name in [
        "a b",
        "a\tb",
        "a\u{a0}b",
        "a\u{3000}b",
        " a",
        "a\u{0}b",
        "a\nb",
        "a\u{200b}b",
    ] {
        assert_eq!(
            header.row(name, &a, false),
            Err(Unwritable::UsernameWhiteSpace),
            "{name:?}"
        );
    }
    assert_eq!(header.row("", &a, false), Err(Unwritable::EmptyUsername));
    assert_eq!(
        header.row("a\"b", &a, false),
        Err(Unwritable::DoubleQuote {
            column: USERNAME.into()
        })
    );
    assert!(header.row("ünï,códé@acme.com", &a, false).is_ok());
}

#[test]
fn a_user_without_a_verified_contact_is_refused() {
    let header = header();
    for a in [
        attrs(&[("email", "a@b.c")]),
        attrs(&[("email_verified", "true")]),
        attrs(&[("email", ""), ("email_verified", "true")]),
        attrs(&[("phone_number", "+1555"), ("phone_number_verified", "yes")]),
    ] {
        assert_eq!(
            header.row("a", &a, false),
            Err(Unwritable::NoVerifiedContact)
        );
    }
    // A verified e-mail the pool has no column for does not count.
    let no_email = CsvHeader::new([
        "cognito:username",
        "phone_number",
        "email_verified",
        "phone_number_verified",
        "cognito:mfa_enabled",
    ])
    .unwrap();
    assert_eq!(
        no_email.row("a", &verified(&[]), false),
        Err(Unwritable::NoVerifiedContact)
    );
}

#[test]
fn birthdates_convert_or_are_refused() {
    let header = header();
    let birthdate = |value: &str| {
        header
            .row("u", &verified(&[("birthdate", value)]), false)
            .map(|row| cells(&row)[column(&header, "birthdate")].clone())
    };
    assert_eq!(birthdate("1984-07-09").unwrap(), "07/09/1984");
    assert_eq!(birthdate("2000-02-29").unwrap(), "02/29/2000");
    assert_eq!(birthdate("0001-01-01").unwrap(), "01/01/0001");
    assert_eq!(birthdate("9999-12-31").unwrap(), "12/31/9999");
    assert_eq!(birthdate("").unwrap(), "");
    for bad in [
        "1984",
        "1984-07",
        "0000-07-09",
        "1984-7-9",
        "1984-13-01",
        "1984-00-10",
        "1984-04-31",
        "2023-02-29",
        "1900-02-29",
        "07/09/1984",
        "1984/07/09",
        " 1984-07-09",
        "1984-07-09T00",
        "１９８４-07-09",
        "+984-07-09",
        "1984-07-0x",
    ] {
        assert_eq!(birthdate(bad), Err(Unwritable::Birthdate), "{bad:?}");
    }
}

#[test]
fn update_times_convert_to_epoch_seconds_or_are_refused() {
    let header = header();
    let updated = |value: &str| {
        header
            .row("u", &verified(&[("updated_at", value)]), false)
            .map(|row| cells(&row)[column(&header, "updated_at")].clone())
    };
    assert_eq!(updated("1551434400").unwrap(), "1551434400");
    assert_eq!(updated("0001551434400").unwrap(), "1551434400");
    assert_eq!(updated("0").unwrap(), "0");
    assert_eq!(updated("1551434400.999").unwrap(), "1551434400");
    assert_eq!(updated("253402300799").unwrap(), "253402300799");
    assert_eq!(updated("2019-03-01T10:00:00Z").unwrap(), "1551434400");
    assert_eq!(
        updated("2019-03-01T10:00:00.5+00:00").unwrap(),
        "1551434400"
    );
    assert_eq!(updated("2019-03-01T05:00:00-05:00").unwrap(), "1551434400");
    assert_eq!(updated("").unwrap(), "");
    for bad in [
        "253402300800",
        "1551434400000",
        "99999999999999999999999",
        "-1",
        "+1551434400",
        "1551434400.",
        ".5",
        "1.5e9",
        "NaN",
        "2019-03-01T10:00:00",
        "2019-03-01 10:00:00Z",
        "1969-12-31T23:59:59Z",
        "2019-03-01",
        "soon",
    ] {
        assert_eq!(updated(bad), Err(Unwritable::UpdatedAt), "{bad:?}");
    }
}

#[test]
fn flags_are_true_or_false() {
    let header = header();
    let flags = |a: &BTreeMap<String, String>, sms: bool| {
        let row = cells(&header.row("u", a, sms).unwrap());
        [MFA_ENABLED, EMAIL_VERIFIED, PHONE_NUMBER_VERIFIED]
            .map(|c| row[column(&header, c)].clone())
    };
    assert_eq!(flags(&verified(&[]), true), ["false", "true", "false"]);
    let phone = attrs(&[
        ("phone_number", "+15550100"),
        ("phone_number_verified", "true"),
        ("email_verified", "TRUE"),
        ("email", "a@acme.com"),
    ]);
    assert_eq!(flags(&phone, true), ["true", "false", "true"]);
    assert_eq!(flags(&phone, false), ["false", "false", "true"]);
}

#[test]
fn rows_longer_than_cognito_takes_are_refused() {
    let header = header();
    let fill = |len: usize| verified(&[("custom:legacy_username", &"x".repeat(len))]);
    let base = header.row("u", &fill(0), false).unwrap().len() + 2;
    assert!(header.row("u", &fill(MAX_ROW_CHARS - base), false).is_ok());
    assert_eq!(
        header.row("u", &fill(MAX_ROW_CHARS - base + 1), false),
        Err(Unwritable::RowTooLong {
            chars: MAX_ROW_CHARS + 1
        })
    );
    // An escaped comma counts twice; a character outside the basic plane counts as two code
    // units, as Java's `String.length` does.
    let commas = verified(&[("custom:legacy_username", &",".repeat(MAX_ROW_CHARS / 2))]);
    assert!(matches!(
        header.row("u", &commas, false),
        Err(Unwritable::RowTooLong { .. })
    ));
    let emoji = verified(&[("custom:legacy_username", &"🎉".repeat(MAX_ROW_CHARS / 2))]);
    assert!(matches!(
        header.row("u", &emoji, false),
        Err(Unwritable::RowTooLong { .. })
    ));
}

#[test]
fn files_split_at_the_user_and_byte_limits() {
    let header = header();
    let head = header.line().len() + 2;
    let rows = |count: usize| (0..count).map(|i| (format!("u{i:03}"), format!("row{i:03}")));
    let by_users = split_files(&header, rows(7), 3, MAX_BYTES_PER_FILE).unwrap();
    assert_eq!(
        by_users
            .iter()
            .map(|f| f.usernames.len())
            .collect::<Vec<_>>(),
        [3, 3, 1]
    );
    // Each row is 6 bytes plus CRLF: room for two rows a file.
    let by_bytes = split_files(&header, rows(5), 100, head + 16).unwrap();
    assert_eq!(
        by_bytes
            .iter()
            .map(|f| f.usernames.len())
            .collect::<Vec<_>>(),
        [2, 2, 1]
    );
    assert!(by_bytes.iter().all(|f| f.text.len() <= head + 16));
    assert!(by_bytes.iter().all(|f| f.text.starts_with(&header.line())));
    assert_eq!(
        split_files(&header, rows(1), 100, head + 3),
        Err(CsvError::RowTooLarge(8))
    );
    assert!(
        split_files(&header, rows(0), 100, MAX_BYTES_PER_FILE)
            .unwrap()
            .is_empty()
    );
}

#[test]
fn write_files_splits_and_lists_what_no_file_can_hold() {
    let header = CsvHeader::new([
        "cognito:username",
        "email",
        "email_verified",
        "phone_number_verified",
        "cognito:mfa_enabled",
    ])
    .unwrap();
    let head = header.line().len() + 2;
    let users = |names: &[&str]| -> Vec<CsvUser> {
        names
            .iter()
            .map(|n| user(n, verified(&[("email", &format!("{n}@acme.com"))]), false))
            .collect()
    };
    let import = write_files(
        &header,
        users(&["a", "b", "c", "d", "e"]),
        2,
        MAX_BYTES_PER_FILE,
    );
    assert!(import.unwritable.is_empty());
    assert_eq!(
        import
            .files
            .iter()
            .map(|f| f.usernames.clone())
            .collect::<Vec<_>>(),
        [vec!["a", "b"], vec!["c", "d"], vec!["e"]]
    );
    // "a,a@acme.com,true,false,false" is 29 bytes and CRLF: two rows fit, three do not.
    let row = 31;
    let import = write_files(
        &header,
        users(&["a", "b", "c", "no one"]),
        100,
        head + 2 * row,
    );
    assert_eq!(
        import
            .files
            .iter()
            .map(|f| f.usernames.clone())
            .collect::<Vec<_>>(),
        [vec!["a", "b"], vec!["c"]]
    );
    assert!(import.files.iter().all(|f| f.text.len() <= head + 2 * row));
    assert_eq!(
        import.unwritable,
        [UnwritableUser {
            username: "no one".into(),
            reason: Unwritable::UsernameWhiteSpace
        }]
    );
    let import = write_files(&header, users(&["long-name"]), 100, head + row);
    assert!(import.files.is_empty());
    assert!(matches!(
        import.unwritable[0].reason,
        Unwritable::RowTooLong { chars: 47 }
    ));
}

/// Values mixing what the format escapes, refuses and passes through.
fn tricky_value() -> impl Strategy<Value = String> {
    let tricky = prop::sample::select(vec![
        ',', ',', '\\', '"', ' ', '\t', '\n', '\r', '\u{85}', '\u{a0}', '\u{200b}', '\u{feff}',
        '\u{2028}', 'a', 'Z', '0', '-', ':', '/', '.', 'T', 'é', 'ß', '日', '🎉', ';', '\'',
    ]);
    prop::collection::vec(prop_oneof![4 => tricky, 1 => any::<char>()], 0..16)
        .prop_map(|chars| chars.into_iter().collect())
}

/// Values the format carries: commas and spaces inside, non-ASCII text, nothing refused.
fn writable_value() -> impl Strategy<Value = String> {
    let writable = prop::sample::select(vec![
        ',', ',', ' ', 'a', 'Z', '0', '-', ':', '/', '.', '@', '+', 'é', 'ß', '日', '🎉', ';',
        '\'', '\u{301}', '=', '|',
    ]);
    prop::collection::vec(writable, 0..24).prop_map(|chars| {
        let text: String = chars.into_iter().collect();
        text.trim_matches(' ').to_owned()
    })
}

/// A user: username, attributes for some of the header's columns, SMS MFA.
type User = (String, BTreeMap<String, String>, bool);

fn user_with(
    username: impl Strategy<Value = String>,
    value: impl Strategy<Value = String>,
) -> impl Strategy<Value = User> {
    let columns: Vec<String> = header().columns().to_vec();
    let values = prop::collection::vec(
        prop_oneof![
            1 => Just(None),
            1 => Just(Some("true".to_owned())),
            1 => Just(Some("1984-07-09".to_owned())),
            1 => Just(Some("1551434400".to_owned())),
            1 => Just(Some("a@acme.com".to_owned())),
            4 => value.prop_map(Some),
        ],
        columns.len(),
    );
    (username, values, any::<bool>()).prop_map(move |(name, values, sms)| {
        let attributes = columns
            .iter()
            .zip(values)
            .filter_map(|(c, v)| v.map(|v| (c.clone(), v)))
            .collect();
        (name, attributes, sms)
    })
}

fn any_user() -> impl Strategy<Value = User> {
    user_with(tricky_value(), tricky_value())
}

/// A user the format can carry: a username without white space, a verified e-mail, a real
/// birthdate and update time.
fn writable_user() -> impl Strategy<Value = User> {
    let username = writable_value().prop_filter_map("a username", |name| {
        let name = name.replace(' ', "");
        (!name.is_empty()).then_some(name)
    });
    user_with(username, writable_value()).prop_map(|(name, mut attributes, sms)| {
        attributes.insert("email".into(), "a,b@acme.com".into());
        attributes.insert("email_verified".into(), "true".into());
        attributes.insert("birthdate".into(), "2000-02-29".into());
        attributes.insert("updated_at".into(), "1551434400".into());
        (name, attributes, sms)
    })
}

/// The row reads back into exactly the header's columns, with the values given.
fn assert_reads_back(
    header: &CsvHeader,
    (name, attributes, _): &User,
    row: &str,
) -> Result<(), TestCaseError> {
    let cells = cells(row);
    prop_assert_eq!(cells.len(), header.columns().len());
    prop_assert!(!row.contains(is_line_break) && !row.contains('"'));
    prop_assert!(row_chars(row) <= MAX_ROW_CHARS);
    for (column, cell) in header.columns().iter().zip(&cells) {
        prop_assert!(!cell.starts_with(is_blank) && !cell.ends_with(is_blank));
        let expected = match column.as_str() {
            USERNAME => name.as_str(),
            MFA_ENABLED | EMAIL_VERIFIED | PHONE_NUMBER_VERIFIED => {
                prop_assert!(cell == "true" || cell == "false");
                continue;
            }
            BIRTHDATE | UPDATED_AT => continue,
            other => attributes.get(other).map_or("", String::as_str),
        };
        prop_assert_eq!(cell, expected, "column {}", column);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn a_writable_user_is_written_and_reads_back(user in writable_user()) {
        let header = header();
        let row = header.row(&user.0, &user.1, user.2);
        prop_assert!(row.is_ok(), "{:?}", row);
        assert_reads_back(&header, &user, &row.unwrap_or_default())?;
    }

    #[test]
    fn any_written_row_splits_back_into_the_header_columns(user in any_user()) {
        let header = header();
        if let Ok(row) = header.row(&user.0, &user.1, user.2) {
            assert_reads_back(&header, &user, &row)?;
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn every_user_is_written_or_listed(
        users in prop::collection::vec(prop_oneof![any_user(), writable_user()], 0..12),
        max_users in 1usize..5,
    ) {
        let header = header();
        let count = users.len();
        let import = write_files(
            &header,
            users.into_iter().map(|(name, attributes, sms)| user(&name, attributes, sms)),
            max_users,
            MAX_BYTES_PER_FILE,
        );
        let written: usize = import.files.iter().map(|f| f.usernames.len()).sum();
        prop_assert_eq!(written + import.unwritable.len(), count);
        for file in &import.files {
            let lines = lines(&file.text);
            prop_assert_eq!(lines.len(), file.usernames.len() + 1);
            prop_assert!(file.usernames.len() <= max_users);
            for line in lines {
                prop_assert_eq!(cells(line).len(), header.columns().len());
            }
        }
    }
}
