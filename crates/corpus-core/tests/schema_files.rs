//! `schemas/NAME.schema` must match the code's schema of every table. After a deliberate
//! change, rewrite the files with `UPDATE_SCHEMAS=1 cargo test -p corpus-core --test schema_files`.

use std::path::PathBuf;

use corpus_core::schema::{TABLES, render_schema, table_schema};

fn schemas_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../schemas")
}

#[test]
fn schema_files_match_code() {
    let update = std::env::var("UPDATE_SCHEMAS").is_ok();
    let mut mismatched = Vec::new();
    for table in TABLES {
        let schema = table_schema(table).expect("schema");
        let rendered = render_schema(table, &schema);
        let path = schemas_dir().join(format!("{table}.schema"));
        if update {
            std::fs::write(&path, &rendered).expect("write schema file");
            continue;
        }
        let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
        if on_disk != rendered {
            mismatched.push(format!("{}:\n{rendered}", path.display()));
        }
    }
    assert!(
        mismatched.is_empty(),
        "schema files differ from the code (UPDATE_SCHEMAS=1 rewrites them):\n{}",
        mismatched.join("\n")
    );
}

#[test]
fn no_stray_schema_files() {
    for entry in std::fs::read_dir(schemas_dir()).expect("schemas dir") {
        let name = entry
            .expect("entry")
            .file_name()
            .to_string_lossy()
            .into_owned();
        if let Some(table) = name.strip_suffix(".schema") {
            assert!(TABLES.contains(&table), "schemas/{name} names no table");
        }
    }
}
