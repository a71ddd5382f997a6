//! `schemata check`: judges a schema change the way the registry would, for CI pipelines.
//! Online it asks a registry (or fetches the subject's versions and judges locally when
//! `--level` overrides the subject's level); offline it compares files, directories or the
//! files at a git ref. Both paths use `registry::compat::judge`, so verdicts agree.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use schemata_codec::client::{Reference, Schema};
use schemata_codec::Error;

use crate::config::CheckArgs;
use crate::registry::compat::{judge, read_at_level};
use crate::schema::{ParseOptions, ParsedSchema, SchemaRef, SchemaType};
use crate::types::Level;

/// Exit codes: the contract CI scripts rely on.
pub const COMPATIBLE: i32 = 0;
pub const INCOMPATIBLE: i32 = 1;
pub const ERROR: i32 = 2;

/// Runs the command, prints its report, and returns the exit code.
pub fn run(args: &CheckArgs) -> i32 {
    let outcome = match (&args.registry, &args.against) {
        (Some(_), Some(_)) => Err("give either --registry or --against, not both".to_string()),
        (Some(url), None) => online(args, url),
        (None, Some(old)) => offline(args, old),
        (None, None) => Err("give --registry URL --subject S, or --against OLD".to_string()),
    };
    match outcome {
        Ok(true) => COMPATIBLE,
        Ok(false) => INCOMPATIBLE,
        Err(e) => {
            eprintln!("error: {e}");
            ERROR
        }
    }
}

/// The format of a file: `--type` wins, else the extension.
fn schema_type(args: &CheckArgs, path: &Path) -> Result<SchemaType, String> {
    let ty = match &args.schema_type {
        Some(t) => SchemaType::parse(t).ok_or_else(|| format!("unknown schema type '{t}' (AVRO, PROTOBUF, JSON)"))?,
        None => match path.extension().and_then(|e| e.to_str()) {
            Some("avsc") => SchemaType::Avro,
            Some("proto") => SchemaType::Protobuf,
            Some("json") => SchemaType::Json,
            _ => return Err(format!("{}: cannot tell the schema type from the extension; use --type", path.display())),
        },
    };
    Ok(ty)
}

/// True for the files a directory check looks at.
fn is_schema_file(path: &Path) -> bool {
    matches!(path.extension().and_then(|e| e.to_str()), Some("avsc" | "proto" | "json"))
}

/// The schema texts of one side of a comparison, keyed by path relative to the side's root.
/// The whole set is the pool references are resolved from.
type Side = BTreeMap<PathBuf, String>;

/// Parses `target` from `side`, resolving what it references from the other files of the
/// side (the offline stand-in for registry references): for Avro the named types the other
/// `.avsc` files define, for JSON Schema and Protobuf the other `.json`/`.proto` files by
/// relative path (a `$ref` or an import names a file as a reference name names a subject). `validate` is on for the new schema
/// (as a registration validates) and off for the old one (as stored schemas are read).
fn parse_in(side: &Side, target: &Path, ty: SchemaType, validate: bool) -> Result<Arc<ParsedSchema>, String> {
    let text = &side[target];
    let opts = ParseOptions { normalize: false, validate };
    if let Some(ext) = match ty {
        SchemaType::Json => Some("json"),
        SchemaType::Protobuf => Some("proto"),
        SchemaType::Avro => None,
    } {
        // Only the files the target names (an import path or `$ref`), transitively: the others
        // may themselves import the target and must not be compiled with it.
        let candidates: Vec<(String, &String)> = side
            .iter()
            .filter(|(p, _)| p.as_path() != target && p.extension().is_some_and(|e| e == ext))
            .map(|(p, t)| (p.to_string_lossy().into_owned(), t))
            .collect();
        let mut wanted: Vec<usize> = Vec::new();
        let mut frontier: Vec<&str> = vec![text.as_str()];
        while let Some(t) = frontier.pop() {
            for (i, (name, other)) in candidates.iter().enumerate() {
                if !wanted.contains(&i) && t.contains(&format!("\"{name}")) {
                    wanted.push(i);
                    frontier.push(other.as_str());
                }
            }
        }
        let refs: Vec<SchemaRef> =
            wanted.iter().map(|&i| SchemaRef { name: &candidates[i].0, text: candidates[i].1 }).collect();
        return ParsedSchema::parse(ty, text, &refs, opts)
            .map(Arc::new)
            .map_err(|e| format!("{}: invalid schema: {e}", target.display()));
    }
    let alone = ParsedSchema::parse(SchemaType::Avro, text, &[], opts);
    let first_error = match alone {
        Ok(p) => return Ok(Arc::new(p)),
        Err(e) => e,
    };
    // Dependency order by rounds: each round adds the files that parse given the earlier ones.
    let others: Vec<&String> = side
        .iter()
        .filter(|(p, _)| p.as_path() != target && p.extension().is_some_and(|e| e == "avsc"))
        .map(|(_, t)| t)
        .collect();
    let lenient = ParseOptions { normalize: false, validate: false };
    // Avro references are matched by the named types they define, so they need no name.
    let mut resolved: Vec<SchemaRef> = Vec::new();
    let mut pending = others;
    for _ in 0..=pending.len() {
        let before = pending.len();
        pending.retain(|t| {
            if ParsedSchema::parse(SchemaType::Avro, t, &resolved, lenient).is_ok() {
                resolved.push(SchemaRef { name: "", text: t });
                false
            } else {
                true
            }
        });
        if pending.is_empty() || pending.len() == before {
            break;
        }
    }
    match ParsedSchema::parse(SchemaType::Avro, text, &resolved, opts) {
        Ok(p) => Ok(Arc::new(p)),
        Err(_) if resolved.is_empty() => Err(format!("{}: invalid schema: {first_error}", target.display())),
        Err(e) => Err(format!("{}: invalid schema: {e}", target.display())),
    }
}

/// Prints Confluent's verbose messages in readable form and returns whether they are empty.
fn report(label: &str, messages: &[String]) -> bool {
    if messages.is_empty() {
        println!("{label}: compatible");
        return true;
    }
    println!("{label}: INCOMPATIBLE");
    for m in messages {
        println!("  {}", readable(m));
    }
    false
}

/// One Confluent message as a line: `{errorType:'T', description:'D', additionalInfo:'I'}`
/// becomes `T: D`; the version, level and old-schema trailers become short notes.
pub fn readable(message: &str) -> String {
    let field = |name: &str| -> Option<&str> {
        let start = message.find(&format!("{name}:'"))? + name.len() + 2;
        let rest = &message[start..];
        let end = rest.find("', ").or_else(|| rest.rfind("'}"))?;
        Some(&rest[..end])
    };
    if message.starts_with("{errorType:") {
        if let (Some(kind), Some(description)) = (field("errorType"), field("description")) {
            return format!("- {kind}: {description}");
        }
    }
    if let Some(v) = message.strip_prefix("{oldSchemaVersion: ").and_then(|r| r.strip_suffix('}')) {
        return format!("(checked against version {v})");
    }
    if let Some(old) = message.strip_prefix("{oldSchema: '").and_then(|r| r.strip_suffix("'}")) {
        return format!("(old schema: {old})");
    }
    if let Some(rest) = message.strip_prefix("{validateFields: ") {
        if let Some(level) = rest.split("compatibility: '").nth(1).and_then(|l| l.strip_suffix("'}")) {
            return format!("(level {level})");
        }
    }
    format!("- {message}")
}

// ---------------------------------------------------------------- offline

/// The old side: a path on disk, or `git:REF` for the same paths at a git ref.
fn offline(args: &CheckArgs, old: &str) -> Result<bool, String> {
    let new_path = args.file.as_deref().ok_or("give the new schema file or directory")?;
    let level = args.level.unwrap_or(Level::Backward);
    let (new_side, targets) = load_disk(new_path)?;
    let old_side = match old.strip_prefix("git:") {
        Some(reference) => load_git(reference, &relative_to_cwd(new_path)?)?,
        None if Path::new(old).is_dir() != new_path.is_dir() => {
            return Err(format!(
                "{old} and {}: compare a file with a file or a directory with a directory",
                new_path.display()
            ))
        }
        None => load_disk(Path::new(old))?.0,
    };
    if new_path.is_file() && !Path::new(old).is_dir() && old.strip_prefix("git:").is_none() {
        // FILE vs FILE: pair them whatever their names.
        let old_name = Path::new(old).file_name().map(PathBuf::from).unwrap_or_default();
        let new_name = targets.first().cloned().unwrap_or_default();
        return compare_pair(args, level, &old_side, &old_name, &new_side, &new_name, new_path);
    }
    let mut compatible = true;
    for rel in &targets {
        let shown = if new_path.is_dir() { new_path.join(rel) } else { new_path.to_path_buf() };
        if !old_side.contains_key(rel) {
            schema_type(args, &shown)?;
            println!("{}: new, nothing to compare with", shown.display());
            continue;
        }
        compatible &= compare_pair(args, level, &old_side, rel, &new_side, rel, &shown)?;
    }
    for rel in old_side.keys().filter(|k| !new_side.contains_key(*k) && new_path.is_dir()) {
        println!("{}: removed (not checked)", new_path.join(rel).display());
    }
    Ok(compatible)
}

fn compare_pair(
    args: &CheckArgs,
    level: Level,
    old_side: &Side,
    old_rel: &Path,
    new_side: &Side,
    new_rel: &Path,
    shown: &Path,
) -> Result<bool, String> {
    let ty = schema_type(args, shown)?;
    let new = parse_in(new_side, new_rel, ty, true)?;
    let old = parse_in(old_side, old_rel, ty, false).map_err(|e| format!("old {e}"))?;
    let old_text = old.canonical().to_string();
    let messages = judge(&new, level, [Ok::<_, String>((1, old, old_text.as_str()))])?;
    // Files have no version numbers and the old text is at hand: drop those trailers.
    let messages: Vec<String> = messages.into_iter().filter(|m| !m.starts_with("{oldSchema")).collect();
    Ok(report(&shown.display().to_string(), &messages))
}

/// A file (with the other files of its type in its directory as the reference pool) or every
/// schema file under a directory. Returns the side and the paths to check, relative.
fn load_disk(path: &Path) -> Result<(Side, Vec<PathBuf>), String> {
    let read = |p: &Path| std::fs::read_to_string(p).map_err(|e| format!("cannot read {}: {e}", p.display()));
    let mut side = Side::new();
    if path.is_dir() {
        let mut stack = vec![path.to_path_buf()];
        while let Some(dir) = stack.pop() {
            let entries = std::fs::read_dir(&dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
            for entry in entries {
                let p = entry.map_err(|e| e.to_string())?.path();
                if p.is_dir() {
                    stack.push(p);
                } else if is_schema_file(&p) {
                    let rel = p.strip_prefix(path).map_err(|e| e.to_string())?.to_path_buf();
                    side.insert(rel, read(&p)?);
                }
            }
        }
        let targets = side.keys().cloned().collect();
        return Ok((side, targets));
    }
    let name = PathBuf::from(path.file_name().ok_or_else(|| format!("{} is not a file", path.display()))?);
    side.insert(name.clone(), read(path)?);
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    for entry in std::fs::read_dir(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?.flatten() {
        let p = entry.path();
        if p.is_file() && p.extension() == path.extension() && p.file_name() != path.file_name() {
            side.insert(PathBuf::from(p.file_name().unwrap_or_default()), read(&p)?);
        }
    }
    Ok((side, vec![name]))
}

/// `path` relative to the current directory, as git pathspecs at a ref need it.
fn relative_to_cwd(path: &Path) -> Result<PathBuf, String> {
    if path.is_relative() {
        return Ok(path.to_path_buf());
    }
    let cwd = std::env::current_dir().map_err(|e| format!("cannot read the current directory: {e}"))?;
    let cwd = cwd.canonicalize().unwrap_or(cwd);
    let path = path.canonicalize().map_err(|e| format!("{}: {e}", path.display()))?;
    match path.strip_prefix(&cwd) {
        Ok(rel) if rel.as_os_str().is_empty() => Ok(PathBuf::from(".")),
        Ok(rel) => Ok(rel.to_path_buf()),
        Err(_) => Err(format!("{} is outside the current directory; git:REF compares paths inside it", path.display())),
    }
}

/// The same paths as `new_path` at git ref `reference`, read with `git ls-tree`/`git show`
/// from the repository of the current directory. A missing path is an empty side.
fn load_git(reference: &str, new_path: &Path) -> Result<Side, String> {
    let git = |args: &[&str]| -> Result<String, String> {
        let out = Command::new("git").args(args).output().map_err(|e| format!("cannot run git: {e}"))?;
        if !out.status.success() {
            return Err(format!("git {}: {}", args.join(" "), String::from_utf8_lossy(&out.stderr).trim()));
        }
        String::from_utf8(out.stdout).map_err(|_| format!("git {}: output is not UTF-8", args.join(" ")))
    };
    git(&["rev-parse", "--verify", "--quiet", &format!("{reference}^{{commit}}")])
        .map_err(|_| format!("git ref '{reference}' not found"))?;
    // Paths are relative to the current directory; `./` makes git read them that way too.
    let (root, single) = if new_path.is_dir() {
        (new_path.to_path_buf(), None)
    } else {
        let dir = new_path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
        (dir.to_path_buf(), new_path.file_name().map(PathBuf::from))
    };
    let root_str = format!("./{}/", root.display()).replace("/./", "/");
    let listing = git(&["ls-tree", "-r", "--name-only", reference, "--", &root_str])?;
    let mut side = Side::new();
    for line in listing.lines() {
        let full = Path::new(line);
        let Ok(rel) = full.strip_prefix(root.strip_prefix("./").unwrap_or(&root)) else { continue };
        let wanted = match &single {
            Some(name) => {
                rel == name || (rel.parent() == Some(Path::new("")) && full.extension().is_some_and(|e| e == "avsc"))
            }
            None => is_schema_file(rel),
        };
        if wanted {
            let text = git(&["show", &format!("{reference}:./{line}")])?;
            side.insert(rel.to_path_buf(), text);
        }
    }
    Ok(side)
}

// ---------------------------------------------------------------- online

fn online(args: &CheckArgs, url: &str) -> Result<bool, String> {
    let subject = args.subject.as_deref().ok_or("--registry needs --subject")?;
    let path = args.file.as_deref().ok_or("give the schema file to check")?;
    if path.is_dir() {
        return Err(format!("{} is a directory; online checks take one file", path.display()));
    }
    let ty = schema_type(args, path)?;
    let (side, targets) = load_disk(path)?;
    let new = parse_in(&side, &targets[0], ty, true)?;
    let client = args.connection.connect(url)?;
    let label = format!("{} against subject {subject}", path.display());

    let versions = match client.versions(subject) {
        Ok(v) => v,
        Err(Error::Registry { error_code: 40401, .. }) => vec![],
        Err(e) => return Err(format!("versions of {subject}: {e}")),
    };
    if versions.is_empty() {
        if args.require_subject {
            return Err(format!("subject {subject} has no versions in the registry (--require-subject)"));
        }
        println!("{label}: compatible (the subject has no versions yet: nothing to break)");
        return Ok(true);
    }

    let Some(level) = args.level else {
        let schema = Schema {
            schema_type: ty,
            text: side[&targets[0]].clone(),
            references: args.references.iter().map(|r| parse_reference(r)).collect::<Result<_, _>>()?,
        };
        // Without verbose, a schema the registry cannot parse is a 422 (an error, exit 2);
        // with it, it would come back as an "incompatible" verdict. Reasons are asked after.
        let ask = |verbose| {
            client.compatibility(subject, None, &schema, verbose).map_err(|e| format!("checking {label}: {e}"))
        };
        if ask(false)?.is_compatible {
            report(&label, &[]);
            return Ok(true);
        }
        let verdict = ask(true)?;
        if verdict.is_compatible {
            report(&label, &[]);
        } else if verdict.messages.is_empty() {
            println!("{label}: INCOMPATIBLE (the registry gave no reasons)");
        } else {
            report(&label, &verdict.messages);
        }
        return Ok(verdict.is_compatible);
    };

    // --level: Confluent's API judges only at the subject's level (Schemata's `level` parameter
    // is an extension), so fetch and judge here, against any registry.
    let newest_first: Vec<u64> = versions.into_iter().rev().filter_map(|v| u64::try_from(v).ok()).collect();
    let mut old = Vec::new();
    for v in read_at_level(newest_first, level) {
        let what = |e: schemata_codec::Error| format!("version {v} of {subject}: {e}");
        let stored = client.version(subject, v as i32).map_err(what)?;
        if stored.schema_type != ty {
            let stored_type = stored.schema_type.as_str();
            return Err(format!("version {v} of {subject} is {stored_type}, the file {}", ty.as_str()));
        }
        let texts = client.reference_texts(&stored).map_err(what)?;
        let refs: Vec<SchemaRef> = texts.iter().map(|(name, text)| SchemaRef { name, text }).collect();
        let parsed = ParsedSchema::parse(ty, &stored.text, &refs, ParseOptions::default())
            .map_err(|e| format!("version {v} of {subject} cannot be parsed here: {e}"))?;
        old.push((v as u32, Arc::new(parsed), stored.text.clone()));
    }
    let messages = judge(&new, level, old.iter().map(|(v, p, t)| Ok::<_, String>((*v, p.clone(), t.as_str()))))?;
    Ok(report(&format!("{label} at level {}", level.as_str()), &messages))
}

/// `name=subject:version` as a registry reference.
fn parse_reference(raw: &str) -> Result<Reference, String> {
    let bad = || format!("--reference '{raw}': expected NAME=SUBJECT:VERSION");
    let (name, target) = raw.split_once('=').ok_or_else(bad)?;
    let (subject, version) = target.rsplit_once(':').ok_or_else(bad)?;
    let version: i32 = version.parse().map_err(|_| bad())?;
    Ok(Reference { name: name.to_string(), subject: subject.to_string(), version })
}
