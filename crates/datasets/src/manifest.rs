//! `manifest.csv`, the index of a segmented folder: one row per clip, as
//! [`segment_dataset`](crate::segment_dataset) writes it and offline
//! augmentation reads and extends it.
//!
//! One row type ([`ManifestRow`]), one reader ([`read_manifest`] /
//! [`parse_manifest`]) and one writer ([`ManifestWriter`],
//! [`write_manifest`]), all through the `csv` crate (RFC 4180 quoting, so
//! paths and labels may hold commas, quotes and line breaks).
//!
//! Columns: the ten of [`MANIFEST_COLUMNS`], then any columns a user added
//! ([`ManifestLayout::extra`], kept as text), then, in an augmented folder,
//! the two of [`AUGMENT_COLUMNS`]. The reader finds columns by name
//! (surrounding spaces ignored), so their order in the file does not
//! matter; the writer always writes them in that order.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use crate::Error;
use crate::recording::{Issue, Severity};

/// Manifest file name inside a segmented folder.
pub const MANIFEST_FILE: &str = "manifest.csv";

/// The columns [`segment_dataset`](crate::segment_dataset) writes, in order.
pub const MANIFEST_COLUMNS: [&str; 10] = [
    "clip",
    "recording",
    "patient",
    "start_s",
    "end_s",
    "label",
    "split",
    "record_label",
    "crackles",
    "wheezes",
];

/// The columns offline augmentation adds after the others: what was applied
/// and the clip it was applied to (both empty on original rows).
pub const AUGMENT_COLUMNS: [&str; 2] = ["augmentation", "source_clip"];

/// One clip of a segmented folder.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ManifestRow {
    /// The clip's WAV file, relative to the manifest's folder.
    pub clip: String,
    /// Recording id the clip was cut from.
    pub recording: String,
    /// Patient of the recording.
    pub patient: String,
    /// Start in the recording, seconds.
    pub start_s: f64,
    /// End in the recording, seconds.
    pub end_s: f64,
    /// Event label as the dataset writes it (`""` for unlabelled windows).
    pub label: String,
    /// `train`, `val`, `test`, or `""` (plain folders).
    pub split: String,
    /// Record label of the recording as SPRSound writes it, or `""`.
    pub record_label: String,
    /// ICBHI crackles bit (`0`/`1` in the file); `None` (empty) otherwise.
    pub crackles: Option<bool>,
    /// ICBHI wheezes bit (`0`/`1` in the file); `None` (empty) otherwise.
    pub wheezes: Option<bool>,
    /// Values of the layout's extra columns, in their order, as text.
    pub extra: Vec<String>,
    /// What augmentation applied (e.g. `gain(+1.50 dB)`); empty on original
    /// clips and in manifests without the augmentation columns.
    pub augmentation: String,
    /// The clip this one was augmented from; empty like `augmentation`.
    pub source_clip: String,
}

impl ManifestRow {
    /// The row's fields in the order of `layout`'s header.
    fn to_record(&self, layout: &ManifestLayout) -> Vec<String> {
        let bit = |b: Option<bool>| b.map(|b| u8::from(b).to_string()).unwrap_or_default();
        let mut record = vec![
            self.clip.clone(),
            self.recording.clone(),
            self.patient.clone(),
            self.start_s.to_string(),
            self.end_s.to_string(),
            self.label.clone(),
            self.split.clone(),
            self.record_label.clone(),
            bit(self.crackles),
            bit(self.wheezes),
        ];
        record.extend(self.extra.iter().cloned());
        if layout.augmented {
            record.extend([self.augmentation.clone(), self.source_clip.clone()]);
        }
        record
    }
}

/// Which columns a manifest has besides [`MANIFEST_COLUMNS`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ManifestLayout {
    /// Columns a user added, in file order; their values are
    /// [`ManifestRow::extra`].
    pub extra: Vec<String>,
    /// Whether the [`AUGMENT_COLUMNS`] are present (written last).
    pub augmented: bool,
}

impl ManifestLayout {
    /// The header line's column names, in the order the writer uses.
    pub fn header(&self) -> Vec<&str> {
        let mut header: Vec<&str> = MANIFEST_COLUMNS.to_vec();
        header.extend(self.extra.iter().map(String::as_str));
        if self.augmented {
            header.extend(AUGMENT_COLUMNS);
        }
        header
    }
}

/// A manifest as read: the good rows plus an issue for each row that was
/// skipped.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Manifest {
    /// The file it was read from (named in issues and errors).
    pub path: PathBuf,
    /// The header line as written in the file.
    pub header: Vec<String>,
    /// Its columns besides the standard ones.
    pub layout: ManifestLayout,
    /// The usable rows, in file order.
    pub rows: Vec<ManifestRow>,
    /// One error issue per skipped row, with the file and the line the row
    /// starts on (wrong number of fields, a time that is not a number, ...).
    pub issues: Vec<Issue>,
}

/// Reads `path` (see [`parse_manifest`]).
pub fn read_manifest(path: &Path) -> Result<Manifest, Error> {
    let text = fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    parse_manifest(&text, path)
}

/// Parses the text of a manifest; `path` is named in issues and errors.
///
/// A leading UTF-8 byte order mark and blank lines are ignored. The header
/// must name every column of [`MANIFEST_COLUMNS`] (an [`Error::Manifest`]
/// otherwise, as for an empty file); other columns are kept as
/// [`ManifestLayout::extra`] unless they are the [`AUGMENT_COLUMNS`]. A row
/// with another number of fields than the header, a `start_s`/`end_s` that
/// is not a number, or `crackles`/`wheezes` other than `0`, `1` or empty is
/// skipped with an error [`Issue`] naming its line.
pub fn parse_manifest(text: &str, path: &Path) -> Result<Manifest, Error> {
    let records = csv_records(text).map_err(|source| Error::Csv {
        path: path.to_path_buf(),
        source,
    })?;
    let line = |record: &csv::StringRecord| record.position().map_or(0, |p| start_line(text, p));
    if let Some(last) = records.last()
        && ends_in_open_quote(text, last)
    {
        return Err(Error::ManifestSyntax {
            path: path.to_path_buf(),
            line: line(last),
            message: "quoted field is not closed".into(),
        });
    }
    let mut records = records.into_iter();
    let Some(header) = records.next() else {
        return Err(Error::Manifest {
            path: path.to_path_buf(),
            problem: "is empty".into(),
        });
    };
    let header: Vec<String> = header.iter().map(str::to_owned).collect();
    let columns = Columns::find(&header, path)?;
    let mut manifest = Manifest {
        path: path.to_path_buf(),
        layout: columns.layout(&header),
        header,
        ..Manifest::default()
    };
    for record in records {
        let row = if record.len() == manifest.header.len() {
            columns.row(&record)
        } else {
            Err(format!(
                "expected {} fields, got {}",
                manifest.header.len(),
                record.len()
            ))
        };
        match row {
            Ok(row) => manifest.rows.push(row),
            Err(problem) => manifest.issues.push(Issue::at_line(
                Severity::Error,
                path,
                line(&record),
                format!("{problem}; row skipped"),
            )),
        }
    }
    Ok(manifest)
}

/// Every record of `text` (header included), whatever its width.
fn csv_records(text: &str) -> Result<Vec<csv::StringRecord>, csv::Error> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes())
        .into_records()
        .collect()
}

/// Whether the text ends inside a quoted field. The csv crate closes such a
/// field at the end of the text, so one stray `"` would swallow every line
/// after it into a single field. The quote is open exactly when appending a
/// `"` to the text leaves its last record unchanged (it closes the field;
/// anywhere else it would add a character or a record).
fn ends_in_open_quote(text: &str, last: &csv::StringRecord) -> bool {
    let start = last.position().map_or(0, |p| p.byte() as usize);
    let Some(tail) = text.get(start..) else {
        return false;
    };
    match (csv_records(tail), csv_records(&format!("{tail}\""))) {
        (Ok(as_is), Ok(closed)) => as_is == closed,
        _ => false,
    }
}

/// The line a record starts on. The reader's position is where it began
/// looking, before the blank lines it skips; count those too.
fn start_line(text: &str, position: &csv::Position) -> usize {
    let rest = text.as_bytes().get(position.byte() as usize..);
    let skipped = rest
        .unwrap_or_default()
        .iter()
        .take_while(|&&b| b == b'\r' || b == b'\n')
        .filter(|&&b| b == b'\n')
        .count();
    position.line() as usize + skipped
}

/// Where each column is in a manifest's header.
struct Columns {
    /// Positions of [`MANIFEST_COLUMNS`], in that order.
    standard: [usize; 10],
    /// Positions of the extra columns.
    extra: Vec<usize>,
    /// Positions of [`AUGMENT_COLUMNS`], where present.
    augment: [Option<usize>; 2],
}

impl Columns {
    fn find(header: &[String], path: &Path) -> Result<Self, Error> {
        let position = |name: &str| header.iter().position(|h| h.trim() == name);
        let mut standard = [0; 10];
        for (slot, name) in standard.iter_mut().zip(MANIFEST_COLUMNS) {
            *slot = position(name).ok_or_else(|| Error::Manifest {
                path: path.to_path_buf(),
                problem: format!(
                    "has no `{name}` column (columns: {}); is it a `lungsound segment` manifest?",
                    header.join(",")
                ),
            })?;
        }
        let augment = AUGMENT_COLUMNS.map(position);
        let extra = (0..header.len())
            .filter(|i| !standard.contains(i) && !augment.contains(&Some(*i)))
            .collect();
        Ok(Self {
            standard,
            extra,
            augment,
        })
    }

    fn layout(&self, header: &[String]) -> ManifestLayout {
        ManifestLayout {
            extra: self.extra.iter().map(|&i| header[i].clone()).collect(),
            augmented: self.augment.iter().any(Option::is_some),
        }
    }

    /// The row of a record as wide as the header, or what is wrong with it.
    fn row(&self, record: &csv::StringRecord) -> Result<ManifestRow, String> {
        let field = |i: usize| record.get(i).unwrap_or_default();
        let text = |k: usize| field(self.standard[k]).to_owned();
        let number = |k: usize| {
            let value = field(self.standard[k]);
            value.trim().parse::<f64>().map_err(|_| {
                format!(
                    "{}: expected a number of seconds, got {value:?}",
                    MANIFEST_COLUMNS[k]
                )
            })
        };
        let bit = |k: usize| match field(self.standard[k]).trim() {
            "" => Ok(None),
            "0" => Ok(Some(false)),
            "1" => Ok(Some(true)),
            other => Err(format!(
                "{}: expected 0, 1 or nothing, got {other:?}",
                MANIFEST_COLUMNS[k]
            )),
        };
        let augment = |k: usize| self.augment[k].map(|i| field(i).to_owned());
        Ok(ManifestRow {
            clip: text(0),
            recording: text(1),
            patient: text(2),
            start_s: number(3)?,
            end_s: number(4)?,
            label: text(5),
            split: text(6),
            record_label: text(7),
            crackles: bit(8)?,
            wheezes: bit(9)?,
            extra: self.extra.iter().map(|&i| field(i).to_owned()).collect(),
            augmentation: augment(0).unwrap_or_default(),
            source_clip: augment(1).unwrap_or_default(),
        })
    }
}

/// Writes manifest rows as CSV: the header of its [`ManifestLayout`] first,
/// then one line per row, fields quoted where they need it. Used by
/// [`segment_dataset`](crate::segment_dataset) (streaming, to a file) and by
/// offline augmentation.
pub struct ManifestWriter<W: io::Write> {
    csv: csv::Writer<W>,
    path: PathBuf,
    layout: ManifestLayout,
}

impl ManifestWriter<fs::File> {
    /// Creates (or truncates) `path` and writes the header.
    pub fn create(path: &Path, layout: ManifestLayout) -> Result<Self, Error> {
        let file = fs::File::create(path).map_err(|e| Error::Csv {
            path: path.to_path_buf(),
            source: e.into(),
        })?;
        Self::from_writer(file, path, layout)
    }
}

impl<W: io::Write> ManifestWriter<W> {
    /// Writes to `inner` (a file, a buffer); `path` is what errors name.
    pub fn from_writer(inner: W, path: &Path, layout: ManifestLayout) -> Result<Self, Error> {
        let mut writer = Self {
            csv: csv::Writer::from_writer(inner),
            path: path.to_path_buf(),
            layout,
        };
        let header = writer.layout.header();
        writer.csv.write_record(header).map_err(|e| writer.err(e))?;
        Ok(writer)
    }

    /// Appends one row; its [`ManifestRow::extra`] must have one value per
    /// extra column of the layout.
    pub fn write_row(&mut self, row: &ManifestRow) -> Result<(), Error> {
        if row.extra.len() != self.layout.extra.len() {
            return Err(Error::InvalidArgument(format!(
                "{}: row {:?} has {} extra values for {} extra columns",
                self.path.display(),
                row.clip,
                row.extra.len(),
                self.layout.extra.len()
            )));
        }
        let record = row.to_record(&self.layout);
        self.csv.write_record(&record).map_err(|e| self.err(e))
    }

    /// Flushes and hands back the inner writer.
    pub fn finish(self) -> Result<W, Error> {
        let path = self.path;
        self.csv
            .into_inner()
            .map_err(|e| Error::io(path, e.into_error()))
    }

    fn err(&self, source: csv::Error) -> Error {
        Error::Csv {
            path: self.path.clone(),
            source,
        }
    }
}

/// Writes a whole manifest to `path` (see [`ManifestWriter`]).
pub fn write_manifest(
    path: &Path,
    layout: &ManifestLayout,
    rows: &[ManifestRow],
) -> Result<(), Error> {
    let mut writer = ManifestWriter::create(path, layout.clone())?;
    for row in rows {
        writer.write_row(row)?;
    }
    writer.finish().map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(clip: &str, label: &str) -> ManifestRow {
        ManifestRow {
            clip: clip.into(),
            recording: "101_1b1_Al_sc_Meditron".into(),
            patient: "101".into(),
            start_s: 0.036,
            end_s: 2.5,
            label: label.into(),
            split: "train".into(),
            crackles: Some(true),
            wheezes: Some(false),
            ..ManifestRow::default()
        }
    }

    fn to_text(layout: &ManifestLayout, rows: &[ManifestRow]) -> String {
        let mut writer =
            ManifestWriter::from_writer(Vec::new(), Path::new("m.csv"), layout.clone()).unwrap();
        for r in rows {
            writer.write_row(r).unwrap();
        }
        String::from_utf8(writer.finish().unwrap()).unwrap()
    }

    #[test]
    fn round_trip_is_exact() {
        let mut spr = row("sub/4_000.wav", "Fine Crackle");
        (spr.crackles, spr.wheezes) = (None, None);
        spr.record_label = "CAS & DAS".into();
        spr.split = String::new();
        spr.start_s = 1e-7;
        let rows = vec![row("a_000.wav", "Normal"), spr];
        for layout in [
            ManifestLayout::default(),
            ManifestLayout {
                extra: vec![],
                augmented: true,
            },
        ] {
            let text = to_text(&layout, &rows);
            let back = parse_manifest(&text, Path::new("m.csv")).unwrap();
            assert_eq!(back.rows, rows);
            assert_eq!(back.layout, layout);
            assert!(back.issues.is_empty());
            assert_eq!(to_text(&back.layout, &back.rows), text);
        }
        let text = to_text(&ManifestLayout::default(), &rows);
        assert_eq!(
            text,
            "clip,recording,patient,start_s,end_s,label,split,record_label,crackles,wheezes\n\
             a_000.wav,101_1b1_Al_sc_Meditron,101,0.036,2.5,Normal,train,,1,0\n\
             sub/4_000.wav,101_1b1_Al_sc_Meditron,101,0.0000001,2.5,Fine Crackle,,CAS & DAS,,\n"
        );
    }

    #[test]
    fn commas_quotes_and_line_breaks_are_quoted() {
        let mut r = row("my, clips/\"a\".wav", "Wheeze,Crackle");
        r.augmentation = "gain(+1.00 dB); noise(white at 10.0 dB SNR)".into();
        r.source_clip = "x,y.wav".into();
        r.patient = "line\nbreak".into();
        let layout = ManifestLayout {
            extra: vec!["note, with comma".into()],
            augmented: true,
        };
        r.extra = vec!["say \"hi\"".into()];
        let text = to_text(&layout, std::slice::from_ref(&r));
        assert!(text.starts_with(
            "clip,recording,patient,start_s,end_s,label,split,record_label,crackles,wheezes,\
             \"note, with comma\",augmentation,source_clip\n\"my, clips/\"\"a\"\".wav\","
        ));
        assert!(text.contains(",\"Wheeze,Crackle\","));
        let back = parse_manifest(&text, Path::new("m.csv")).unwrap();
        assert_eq!(back.rows, vec![r]);
        assert_eq!(back.layout, layout);
    }

    #[test]
    fn columns_are_found_by_name_and_extras_kept() {
        let text = "\u{feff}label , clip,fold,recording,patient,start_s,end_s,split,record_label,crackles,wheezes\r\n\
                    \r\n\
                    Wheeze,a.wav,3,r,p,0.5,1,train,,0,1\r\n";
        let m = parse_manifest(text, Path::new("m.csv")).unwrap();
        assert_eq!(m.layout.extra, vec!["fold".to_owned()]);
        assert!(!m.layout.augmented);
        assert_eq!(m.rows.len(), 1);
        let r = &m.rows[0];
        assert_eq!((r.clip.as_str(), r.label.as_str()), ("a.wav", "Wheeze"));
        assert_eq!((r.start_s, r.end_s), (0.5, 1.0));
        assert_eq!((r.crackles, r.wheezes), (Some(false), Some(true)));
        assert_eq!(r.extra, vec!["3".to_owned()]);
        assert_eq!(m.header[0], "label ");
    }

    #[test]
    fn malformed_rows_name_file_and_line() {
        let text = "clip,recording,patient,start_s,end_s,label,split,record_label,crackles,wheezes\n\
                    a.wav,r,p,0,1,Normal,train,,0,0\n\
                    \n\
                    short,row\n\
                    \"multi\nline.wav\",r,p,zero,1,Normal,train,,0,0\n\
                    c.wav,r,p,0,1,Normal,train,,yes,0\n\
                    d.wav,r,p,0,1,Normal,train,,0,0\n";
        let m = parse_manifest(text, Path::new("dir/manifest.csv")).unwrap();
        let clips: Vec<&str> = m.rows.iter().map(|r| r.clip.as_str()).collect();
        assert_eq!(clips, ["a.wav", "d.wav"]);
        let shown: Vec<String> = m.issues.iter().map(|i| i.to_string()).collect();
        assert_eq!(
            shown,
            [
                "dir/manifest.csv:4: error: expected 10 fields, got 2; row skipped",
                "dir/manifest.csv:5: error: start_s: expected a number of seconds, got \"zero\"; \
                 row skipped",
                "dir/manifest.csv:7: error: crackles: expected 0, 1 or nothing, got \"yes\"; \
                 row skipped",
            ]
        );
    }

    #[test]
    fn a_quote_left_open_is_an_error_naming_its_line() {
        let header =
            "clip,recording,patient,start_s,end_s,label,split,record_label,crackles,wheezes\n";
        let good = "a.wav,r,p,0,1,Normal,train,,0,0\n";
        let p = Path::new("m.csv");
        for (body, line) in [
            (
                format!("{good}\"b.wav,r,p,0,1,Normal,train,,0,0\n{good}"),
                3,
            ),
            (format!("{good}b.wav,r,p,0,1,Normal,train,,0,\""), 3),
            (
                format!("{good}\nb.wav,r,p,0,1,\"Nor\"\"mal,train,,0,0\n"),
                4,
            ),
        ] {
            let err = parse_manifest(&format!("{header}{body}"), p).unwrap_err();
            assert_eq!(
                err.to_string(),
                format!("cannot parse m.csv: line {line}: quoted field is not closed")
            );
        }
        // closed quotes, escaped quotes and a quote inside an unquoted field are fine
        for body in [
            format!("{good}\"b.wav\",r,p,0,1,\"Nor\"\"mal\",train,,0,0"),
            format!("{good}b.wav,r,p,0,1,Nor\"mal,train,,0,0\n"),
            format!("{good}b.wav,r,p,0,1,\"\",train,,0,0\n\n"),
        ] {
            let m = parse_manifest(&format!("{header}{body}"), p).unwrap();
            assert_eq!(m.rows.len(), 2, "{body}");
        }
    }

    #[test]
    fn unusable_files_are_errors_naming_the_file() {
        let p = Path::new("x/manifest.csv");
        let err = parse_manifest("", p).unwrap_err().to_string();
        assert_eq!(err, "x/manifest.csv is empty");
        let err = parse_manifest("clip,label,split\na,b,c\n", p)
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "x/manifest.csv has no `recording` column (columns: clip,label,split); \
             is it a `lungsound segment` manifest?"
        );
        let missing = read_manifest(Path::new("/nonexistent/manifest.csv")).unwrap_err();
        assert!(
            missing
                .to_string()
                .starts_with("/nonexistent/manifest.csv: "),
            "{missing}"
        );
    }
}
