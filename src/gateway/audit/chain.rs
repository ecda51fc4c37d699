//! The hash chain of the audit file: how a record is sealed (its `hash` over its own text, its
//! `prev` the hash of the record before it) and how a file is checked, naming the first record
//! that breaks the chain and why. Pure: no I/O, so `opsdeck audit verify` and the gateway share
//! it.

use crate::protocol::{AuditRecord, GENESIS};

/// The placeholder a record is hashed with, in place of its own hash.
const UNSEALED: &str = r#","hash":""}"#;

/// SHA-256 of `bytes`, lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, bytes);
    digest.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// Seal `record` (whose `seq` and `prev` are set): set its `hash` and return the line to write,
/// without the newline. `hash` is the last field, so the hashed text is the line with the hash
/// left empty.
pub fn seal(record: &mut AuditRecord) -> Result<String, serde_json::Error> {
    record.hash = String::new();
    let unsealed = serde_json::to_string(record)?;
    record.hash = sha256_hex(unsealed.as_bytes());
    Ok(serialized_with_hash(&unsealed, &record.hash))
}

fn serialized_with_hash(unsealed: &str, hash: &str) -> String {
    let body = unsealed.strip_suffix(UNSEALED).unwrap_or(unsealed);
    format!(r#"{body},"hash":"{hash}"}}"#)
}

/// A chain that holds: how many records, and the hash of the last one (the head), which is
/// worth keeping somewhere else to detect a cut or rewritten tail later.
#[derive(Clone, Debug, PartialEq)]
pub struct Intact {
    pub records: u64,
    pub head: String,
    /// The last record, if any.
    pub last: Option<AuditRecord>,
}

/// What is wrong with a chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Break {
    /// A record's text does not match its hash, or a record is not a record at all.
    Edited,
    /// Records are missing between two that remain.
    Removed,
    /// A record is not where its sequence number puts it.
    Reordered,
    /// The file ends inside a record, or the anchored head is not in it.
    TruncatedTail,
}

impl Break {
    pub fn as_str(self) -> &'static str {
        match self {
            Break::Edited => "edited",
            Break::Removed => "removed",
            Break::Reordered => "reordered",
            Break::TruncatedTail => "truncated tail",
        }
    }
}

/// The first place a chain breaks: the line (from 1), the record's `seq` when it could be read,
/// what is wrong, and an explanation for people.
#[derive(Clone, Debug, PartialEq)]
pub struct Broken {
    pub line: usize,
    pub seq: Option<u64>,
    pub kind: Break,
    pub why: String,
}

impl std::fmt::Display for Broken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.seq {
            Some(seq) => write!(
                f,
                "line {} (record {seq}): {}: {}",
                self.line,
                self.kind.as_str(),
                self.why
            ),
            None => write!(
                f,
                "line {}: {}: {}",
                self.line,
                self.kind.as_str(),
                self.why
            ),
        }
    }
}

/// A line read back: the record, and whether its text matches its hash.
fn read(line: &str) -> Option<(AuditRecord, bool)> {
    let record: AuditRecord = serde_json::from_str(line).ok()?;
    let unsealed = line
        .strip_suffix(&format!(r#","hash":"{}"}}"#, record.hash))
        .map(|body| format!("{body}{UNSEALED}"));
    let sound = unsealed.is_some_and(|text| sha256_hex(text.as_bytes()) == record.hash);
    Some((record, sound))
}

/// Check the chain in `text` (the whole audit file). With `anchor`, the hash of a record known
/// to have been written (an earlier head kept elsewhere), which must still be in the chain.
pub fn verify(text: &str, anchor: Option<&str>) -> Result<Intact, Broken> {
    let mut pieces: Vec<&str> = text.split_inclusive('\n').collect();
    let torn = pieces.last().is_some_and(|l| !l.ends_with('\n'));
    let torn_line = pieces.len();
    if torn {
        pieces.pop();
    }
    let records: Vec<Option<(AuditRecord, bool)>> = pieces
        .iter()
        .map(|l| read(l.trim_end_matches(['\n', '\r'])))
        .collect();
    let mut intact = Intact {
        records: 0,
        head: GENESIS.to_string(),
        last: None,
    };
    let mut anchored = anchor.is_none_or(|a| a == GENESIS);
    for (i, parsed) in records.iter().enumerate() {
        let line = i + 1;
        let expected = intact.records + 1;
        let Some((record, sound)) = parsed else {
            return Err(Broken {
                line,
                seq: None,
                kind: Break::Edited,
                why: "this line is not an audit record".into(),
            });
        };
        let seq = Some(record.seq);
        let broken = |kind, why: String| Broken {
            line,
            seq,
            kind,
            why,
        };
        if !sound {
            return Err(broken(
                Break::Edited,
                "its text does not match its hash: it was changed after it was written".into(),
            ));
        }
        if record.seq != expected {
            let later = records[i + 1..]
                .iter()
                .flatten()
                .any(|(r, _)| r.seq == expected);
            return Err(if record.seq < expected || later {
                broken(
                    Break::Reordered,
                    format!("record {expected} should come here; the records are out of order"),
                )
            } else if record.seq == expected + 1 {
                broken(
                    Break::Removed,
                    format!("record {expected} before it is missing"),
                )
            } else {
                broken(
                    Break::Removed,
                    format!(
                        "records {expected} to {} before it are missing",
                        record.seq - 1
                    ),
                )
            });
        }
        if record.prev != intact.head {
            let why = if expected == 1 {
                "the first record does not start a chain: the records before it are missing".into()
            } else {
                format!(
                    "it does not follow record {}: that record was replaced by another",
                    expected - 1
                )
            };
            return Err(broken(Break::Edited, why));
        }
        anchored |= anchor == Some(record.hash.as_str());
        intact.records = record.seq;
        intact.head = record.hash.clone();
        intact.last = Some(record.clone());
    }
    if torn {
        return Err(Broken {
            line: torn_line,
            seq: None,
            kind: Break::TruncatedTail,
            why: "the file ends inside a record: it was cut (or the gateway died while writing)"
                .into(),
        });
    }
    if !anchored {
        return Err(Broken {
            line: records.len(),
            seq: intact.last.as_ref().map(|r| r.seq),
            kind: Break::TruncatedTail,
            why: "the anchored record is not in the file: its tail was cut or the chain rewritten"
                .into(),
        });
    }
    Ok(intact)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::protocol::AuditResult;

    fn record(n: u64) -> AuditRecord {
        let t = "2026-12-06T10:00:00Z".parse().unwrap();
        AuditRecord {
            seq: n,
            at: t,
            platform_time: t,
            actor: "li.wei".into(),
            role: "operator".into(),
            action: "scale".into(),
            target: "shop-cart".into(),
            app: Some("shop-cart".into()),
            from: Some("4".into()),
            to: Some(format!("{}", 4 + n)),
            result: AuditResult::Ok,
            message: format!("scale shop-cart 4 -> {}", 4 + n),
            request_id: Some(format!("req-{n}")),
            idempotency_key: None,
            client: Some("127.0.0.1:40000".into()),
            run: None,
            prev: String::new(),
            hash: String::new(),
        }
    }

    /// A chain of `n` records, one line each.
    fn chain(n: u64) -> Vec<String> {
        let mut prev = GENESIS.to_string();
        (1..=n)
            .map(|i| {
                let mut r = record(i);
                r.prev = prev.clone();
                let line = seal(&mut r).unwrap();
                prev = r.hash;
                line
            })
            .collect()
    }

    fn text(lines: &[String]) -> String {
        lines.iter().map(|l| format!("{l}\n")).collect()
    }

    #[test]
    fn a_sealed_chain_verifies_and_reports_its_head() {
        let lines = chain(5);
        let intact = verify(&text(&lines), None).unwrap();
        assert_eq!(intact.records, 5);
        let last: AuditRecord = serde_json::from_str(&lines[4]).unwrap();
        assert_eq!(intact.head, last.hash);
        assert_eq!(verify(&text(&lines), Some(&last.hash)).unwrap().records, 5);
        assert_eq!(verify("", None).unwrap().records, 0);
    }

    #[test]
    fn each_kind_of_tampering_is_named_at_the_first_bad_record() {
        let lines = chain(6);
        let mut edited = lines.clone();
        edited[2] = edited[2].replace("li.wei", "nobody");
        let err = verify(&text(&edited), None).unwrap_err();
        assert_eq!((err.line, err.seq, err.kind), (3, Some(3), Break::Edited));

        let mut removed = lines.clone();
        removed.remove(2);
        let err = verify(&text(&removed), None).unwrap_err();
        assert_eq!((err.line, err.seq, err.kind), (3, Some(4), Break::Removed));
        assert!(err.why.contains("record 3"), "{}", err.why);

        let mut reordered = lines.clone();
        reordered.swap(2, 3);
        let err = verify(&text(&reordered), None).unwrap_err();
        assert_eq!(
            (err.line, err.seq, err.kind),
            (3, Some(4), Break::Reordered)
        );

        let mut cut = text(&lines);
        cut.truncate(cut.len() - 20);
        let err = verify(&cut, None).unwrap_err();
        assert_eq!((err.line, err.kind), (6, Break::TruncatedTail));

        // Whole records cut from the tail leave a valid chain: only an anchor kept elsewhere
        // shows it.
        let head: AuditRecord = serde_json::from_str(&lines[5]).unwrap();
        let short = text(&lines[..4]);
        assert!(verify(&short, None).is_ok());
        let err = verify(&short, Some(&head.hash)).unwrap_err();
        assert_eq!(err.kind, Break::TruncatedTail);

        // A record replaced by another, resealed, is caught by the record after it.
        let mut replaced = lines.clone();
        let mut forged: AuditRecord = serde_json::from_str(&lines[2]).unwrap();
        forged.actor = "nobody".into();
        replaced[2] = seal(&mut forged).unwrap();
        let err = verify(&text(&replaced), None).unwrap_err();
        assert_eq!((err.line, err.seq, err.kind), (4, Some(4), Break::Edited));
        assert!(err.why.contains("record 3"), "{}", err.why);

        let mut garbage = lines;
        garbage[1] = "{not json".into();
        let err = verify(&text(&garbage), None).unwrap_err();
        assert_eq!((err.line, err.seq, err.kind), (2, None, Break::Edited));
    }
}
