//! `ferry validate -f FILE|DIR|-`: check Forklift manifests offline.
//!
//! Reads single- or multi-document YAML from files, directories (recursively,
//! `*.yaml`/`*.yml`) or standard input, and reports every problem as
//! `<file>:<doc#> <Kind/name> <field path>: <message>`. Exits non-zero when
//! any error is found; warnings alone keep the exit code zero.
use anyhow::{Context, bail};
use ferry_core::validate::{self, Document, Finding, Options, Severity};
use serde_json::Value;
use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};

/// Largest manifest file read.
const MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;
/// Deepest directory recursion.
const MAX_DIR_DEPTH: usize = 32;

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// One line per problem.
    Table,
    /// A YAML report.
    Yaml,
    /// A JSON report.
    Json,
}

/// Arguments of `ferry validate`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// A manifest file, a directory (searched recursively for *.yaml and
    /// *.yml) or `-` for standard input. Repeatable.
    #[arg(
        short = 'f',
        long = "filename",
        required = true,
        value_name = "FILE|DIR|-"
    )]
    pub files: Vec<String>,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value_t = Format::Table)]
    pub output: Format,
    /// Treat fields the schema does not know as errors, not warnings.
    #[arg(long)]
    pub strict: bool,
}

#[derive(serde::Serialize)]
struct JsonFinding<'a> {
    severity: &'static str,
    file: &'a str,
    document: usize,
    object: &'a str,
    path: &'a str,
    message: &'a str,
}

#[derive(serde::Serialize)]
struct JsonReport<'a> {
    files: usize,
    documents: usize,
    errors: usize,
    warnings: usize,
    findings: Vec<JsonFinding<'a>>,
}

/// Collect the files named by `arg`.
fn expand(arg: &str, out: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    let path = PathBuf::from(arg);
    let meta = std::fs::metadata(&path).with_context(|| format!("cannot read {arg}"))?;
    if meta.is_dir() {
        let before = out.len();
        walk(&path, 0, out)?;
        if out.len() == before {
            bail!("directory {arg} has no *.yaml or *.yml files");
        }
    } else {
        out.push(path);
    }
    Ok(())
}

fn walk(dir: &Path, depth: usize, out: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    if depth > MAX_DIR_DEPTH {
        bail!(
            "{} is nested more than {MAX_DIR_DEPTH} directories deep",
            dir.display()
        );
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot list {}", dir.display()))?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()
        .with_context(|| format!("cannot list {}", dir.display()))?;
    entries.sort();
    for p in entries {
        // Do not follow symlinked directories (no loops).
        let meta = std::fs::symlink_metadata(&p)
            .with_context(|| format!("cannot read {}", p.display()))?;
        if meta.is_dir() {
            walk(&p, depth + 1, out)?;
        } else if p
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| e == "yaml" || e == "yml")
        {
            out.push(p);
        }
    }
    Ok(())
}

fn read_limited(mut r: impl Read, name: &str) -> anyhow::Result<String> {
    let mut buf = Vec::new();
    r.by_ref()
        .take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut buf)
        .with_context(|| format!("cannot read {name}"))?;
    if u64::try_from(buf.len()).unwrap_or(u64::MAX) > MAX_FILE_BYTES {
        bail!("{name} is larger than {} MiB", MAX_FILE_BYTES >> 20);
    }
    String::from_utf8(buf).with_context(|| format!("{name} is not UTF-8 text"))
}

/// Parse one YAML stream into documents; a syntax error becomes a finding.
fn parse(name: &str, text: &str, docs: &mut Vec<Document>, findings: &mut Vec<Finding>) {
    match serde_saphyr::from_multiple_with_options::<Value>(text, super::manifests::yaml_options())
    {
        Ok(values) => {
            let mut index = 0;
            for value in values.into_iter().flat_map(super::manifests::unwrap_list) {
                if value.is_null() {
                    continue;
                }
                index += 1;
                docs.push(Document {
                    source: name.to_string(),
                    index,
                    value,
                });
            }
        }
        Err(e) => findings.push(Finding {
            severity: Severity::Error,
            source: name.to_string(),
            doc: 1,
            object: String::new(),
            path: String::new(),
            message: format!(
                "not valid YAML: {}",
                e.to_string()
                    .lines()
                    .next()
                    .unwrap_or("")
                    .trim_start_matches("error: ")
            ),
        }),
    }
}

fn colour(enabled: bool, severity: Severity) -> (&'static str, &'static str) {
    match (enabled, severity) {
        (false, _) => ("", ""),
        (true, Severity::Error) => ("\x1b[1;31m", "\x1b[0m"),
        (true, Severity::Warning) => ("\x1b[1;33m", "\x1b[0m"),
    }
}

/// Run `ferry validate`.
pub fn run(args: Args) -> anyhow::Result<()> {
    let mut docs = Vec::new();
    let mut findings = Vec::new();
    let mut files = 0usize;
    for arg in &args.files {
        if arg == "-" {
            let text = read_limited(std::io::stdin().lock(), "standard input")?;
            files += 1;
            parse("-", &text, &mut docs, &mut findings);
            continue;
        }
        let mut paths = Vec::new();
        expand(arg, &mut paths)?;
        for p in paths {
            let name = p.display().to_string();
            let file = std::fs::File::open(&p).with_context(|| format!("cannot open {name}"))?;
            let text = read_limited(file, &name)?;
            files += 1;
            parse(&name, &text, &mut docs, &mut findings);
        }
    }
    let options = Options {
        strict_unknown_fields: args.strict,
    };
    findings.extend(validate::validate(&docs, &validate::crd_schema, &options));
    let (errors, warnings) = validate::counts(&findings);

    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match args.output {
        Format::Table => {
            let tty = stdout.is_terminal() && std::env::var_os("NO_COLOR").is_none();
            for f in &findings {
                let (on, off) = colour(tty, f.severity);
                writeln!(out, "{on}{}{off}: {f}", f.severity)?;
            }
        }
        Format::Json | Format::Yaml => {
            let report = JsonReport {
                files,
                documents: docs.len(),
                errors,
                warnings,
                findings: findings
                    .iter()
                    .map(|f| JsonFinding {
                        severity: f.severity.as_str(),
                        file: &f.source,
                        document: f.doc,
                        object: &f.object,
                        path: &f.path,
                        message: &f.message,
                    })
                    .collect(),
            };
            if args.output == Format::Json {
                serde_json::to_writer_pretty(&mut out, &report)?;
                writeln!(out)?;
            } else {
                let text =
                    serde_saphyr::to_string(&report).context("cannot write the YAML report")?;
                out.write_all(text.as_bytes())?;
            }
        }
    }
    out.flush()?;
    let summary = format!(
        "{errors} error{}, {warnings} warning{} in {} document{} ({files} file{})",
        if errors == 1 { "" } else { "s" },
        if warnings == 1 { "" } else { "s" },
        docs.len(),
        if docs.len() == 1 { "" } else { "s" },
        if files == 1 { "" } else { "s" },
    );
    if errors > 0 {
        bail!("validation failed: {summary}");
    }
    eprintln!("ok: {summary}");
    Ok(())
}
