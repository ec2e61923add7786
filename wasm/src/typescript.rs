//! Reads the TypeScript a module declares in its `typescript_custom_section`, so that tests can
//! hold it equal to the Rust side. The section is not a Rust constant: tests pass the module's
//! source (`include_str!`).

/// The members of `export type NAME = "a" | "b" ...;` in `source`.
pub fn union(source: &'static str, name: &str) -> Vec<&'static str> {
    source
        .split(&format!("export type {name} ="))
        .nth(1)
        .and_then(|rest| rest.split(';').next())
        .unwrap_or_default()
        .split('|')
        .map(|word| word.trim().trim_matches('"'))
        .filter(|word| !word.is_empty())
        .collect()
}

/// The top-level fields of `export interface NAME { ... }` in `source`, in order.
pub fn fields(source: &'static str, name: &str) -> Vec<&'static str> {
    source
        .split(&format!("export interface {name} {{\n"))
        .nth(1)
        .and_then(|rest| rest.split("\n}").next())
        .unwrap_or_default()
        .lines()
        .filter_map(|line| line.strip_prefix("  "))
        .filter(|line| line.starts_with(|c: char| c.is_ascii_alphabetic()))
        .filter_map(|line| line.split([':', '?']).next())
        .collect()
}
