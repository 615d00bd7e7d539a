//! The interactive shell and the script runner behind the `runql` command,
//! laid out like datafusion-cli: one concern per file.
//!
//! - [`exec`]: running statements from `-c`, files, stdin and REPL input;
//! - [`command`]: the `\d` / `.tables` meta commands;
//! - [`helper`]: rustyline validation and completion;
//! - [`print_format`] / [`print_options`]: output formats;
//! - [`chart`]: `.chart`, results drawn as text or SVG;
//! - [`progress`]: the spinner for long statements.

pub mod chart;
pub mod command;
pub mod exec;
pub mod helper;
pub mod print_format;
pub mod print_options;
pub mod progress;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use parking_lot::RwLock;

use rustyline::error::ReadlineError;
use rustyline::history::FileHistory;
use rustyline::{Config, Editor};

use runql::sql::Session;
use runql::tables::USER_TABLES;

use command::{Command, Next};
use helper::{KeyCache, ReplHelper, SharedKeys};
use print_options::PrintOptions;

/// Where history goes when `--history` is not given.
pub fn default_history() -> Option<PathBuf> {
    dirs::data_dir().map(|dir| dir.join("runql").join("history"))
}

/// Reads statements and meta commands until `\q` or Ctrl-D.
pub async fn run(
    session: &Session,
    mut options: PrintOptions,
    history: Option<&Path>,
) -> Result<(), String> {
    let config = Config::builder().auto_add_history(false).build();
    let mut editor: Editor<ReplHelper, FileHistory> =
        Editor::with_config(config).map_err(|e| format!("starting the line editor: {e}"))?;
    let keys: SharedKeys = Arc::new(RwLock::new(KeyCache::default()));
    editor.set_helper(Some(ReplHelper::new(
        table_columns(session).await,
        keys.clone(),
    )));
    let interrupts = exec::Interrupts::listen();
    let last = exec::LastResult::default();
    if let Some(path) = history {
        // A first run has no history yet.
        let _ = editor.load_history(path);
    }
    if !options.quiet {
        eprintln!(
            "runql {} on {}. End statements with ';'. \\? for help, \\q or Ctrl-D to leave.",
            env!("CARGO_PKG_VERSION"),
            session.store().location()
        );
    }
    loop {
        if keys.read().stale() {
            let fresh = KeyCache::read(session).await;
            *keys.write() = fresh;
        }
        match editor.readline("runql> ") {
            Ok(input) => {
                if input.trim().is_empty() {
                    continue;
                }
                let _ = editor.add_history_entry(input.as_str());
                if let Some(path) = history {
                    save_history(&mut editor, path);
                }
                if Command::is_command(&input) {
                    match Command::parse(&input) {
                        Ok(command) => {
                            // A file read with \i may write.
                            let may_write = matches!(command, Command::Include(_));
                            if let Next::Quit =
                                command.run(session, &mut options, &interrupts, &last).await
                            {
                                break;
                            }
                            if may_write {
                                keys.write().invalidate();
                            }
                        }
                        Err(message) => eprintln!("error: {message}"),
                    }
                } else {
                    if exec::run_interactive(session, &input, &options, &interrupts, &last).await {
                        keys.write().invalidate();
                    }
                }
            }
            // Ctrl-C at the prompt drops the input being typed, as in psql.
            Err(ReadlineError::Interrupted) => continue,
            Err(ReadlineError::Eof) => break,
            Err(error) => return Err(format!("reading input: {error}")),
        }
    }
    Ok(())
}

fn save_history(editor: &mut Editor<ReplHelper, FileHistory>, path: &Path) {
    if let Some(parent) = path.parent() {
        let _ = std::fs::create_dir_all(parent);
    }
    if let Err(error) = editor.save_history(path) {
        eprintln!(
            "warning: cannot save history to {}: {error}",
            path.display()
        );
    }
}

/// Each user table's columns, for completion; a table that fails to plan has none.
async fn table_columns(session: &Session) -> BTreeMap<String, Vec<String>> {
    let mut columns = BTreeMap::new();
    for table in USER_TABLES {
        let names = match session.context().table(*table).await {
            Ok(frame) => frame
                .schema()
                .fields()
                .iter()
                .map(|f| f.name().clone())
                .collect(),
            Err(_) => Vec::new(),
        };
        columns.insert(table.to_string(), names);
    }
    columns
}
