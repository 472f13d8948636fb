//! Keys the `config` crate must never see. It reads a key as a path expression: a
//! quoted TOML key such as `"chains[9000000000000]"` (or an environment variable
//! `BRIDGE__X[9000000000000]`) makes it grow an array to that index, which aborts the
//! process on an allocation failure before any of our checks run (found by the
//! `config_load` fuzz target; its input is in `fuzz/regressions/config_load/`). Every
//! key of ours is made of letters, digits, `_` and `-`, so anything else is refused
//! here, with where it was, before the text reaches the loader.

/// Checks every key of a TOML document, at any depth (tables, arrays of tables, inline
/// tables). Text that is not TOML passes: the loader reports the parse error itself.
pub(crate) fn check_toml_keys(text: &str) -> Result<(), String> {
    let Ok(table) = text.parse::<toml::Table>() else {
        return Ok(());
    };
    check_table(&table, "")
}

/// Checks the names of the `BRIDGE__…` environment overrides the loader would read.
pub(crate) fn check_env_keys<I: IntoIterator<Item = (String, String)>>(
    vars: I,
) -> Result<(), String> {
    for (name, _) in vars {
        if name.starts_with("BRIDGE__")
            && !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            return Err(format!(
                "environment variable {:?}: a BRIDGE__ override's name is letters, digits and '_' only (the parts of a key are joined with '__')",
                cut(&name)
            ));
        }
    }
    Ok(())
}

fn check_table(table: &toml::Table, at: &str) -> Result<(), String> {
    for (key, value) in table {
        if key.is_empty()
            || !key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            let place = if at.is_empty() { "the top level" } else { at };
            return Err(format!(
                "key {:?} in {place}: a key is letters, digits, '_' and '-' only (no quoted keys with '.', '[', ']' or spaces; see docs/OPERATIONS.md for the keys)",
                cut(key)
            ));
        }
        let here = if at.is_empty() {
            key.clone()
        } else {
            format!("{at}.{key}")
        };
        check_value(value, &here)?;
    }
    Ok(())
}

fn check_value(value: &toml::Value, at: &str) -> Result<(), String> {
    match value {
        toml::Value::Table(t) => check_table(t, at),
        toml::Value::Array(items) => items
            .iter()
            .enumerate()
            .try_for_each(|(i, v)| check_value(v, &format!("{at}[{i}]"))),
        _ => Ok(()),
    }
}

/// A key as shown in an error: at most 60 characters.
fn cut(key: &str) -> String {
    match key.char_indices().nth(60) {
        Some((at, _)) => format!("{}…", &key[..at]),
        None => key.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_expression_in_a_quoted_key_is_refused_before_the_loader() {
        // The fuzzer's input: the config crate would resize an array to 9e12 entries.
        let err = check_toml_keys(r#"["T[00000000000000000000000009000000000212]"]"#)
            .expect_err("refused");
        assert!(err.contains("letters, digits"), "{err}");
        let nested = "[[chains]]\nname = \"a\"\n[chains.\"x.y\"]\nz = 1\n";
        let err = check_toml_keys(nested).expect_err("refused");
        assert!(err.contains("chains[0]"), "{err}");
        let inline = "api = { \"a[1]\" = 2 }\n";
        assert!(check_toml_keys(inline).is_err());
    }

    #[test]
    fn ordinary_keys_and_non_toml_pass() {
        let ok = "[[chains]]\nname = \"alpha\"\nchain_id = \"eip155:31337\"\nrpc = [\"http://x\"]\n[store]\nurl = \"sqlite://x\"\n";
        assert_eq!(check_toml_keys(ok), Ok(()));
        assert_eq!(check_toml_keys("this is = = not toml"), Ok(()));
    }

    #[test]
    fn environment_override_names_are_checked() {
        let bad = vec![("BRIDGE__CHAINS[900000000000]".to_owned(), "1".to_owned())];
        assert!(check_env_keys(bad).is_err());
        let ok = vec![
            ("BRIDGE__STORE__URL".to_owned(), "x".to_owned()),
            ("OTHER[1]".to_owned(), "y".to_owned()),
        ];
        assert_eq!(check_env_keys(ok), Ok(()));
    }
}
