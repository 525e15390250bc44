//! Small Markdown helpers: tables, escaping, number formatting.

use std::fmt::Write;

/// A GitHub-flavoured Markdown table. Cells are escaped; the first column is
/// left-aligned and the others right-aligned (they hold numbers).
pub(crate) fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut out = String::new();
    let escaped: Vec<String> = headers.iter().map(|h| escape(h)).collect();
    let _ = writeln!(out, "| {} |", escaped.join(" | "));
    let align: Vec<&str> = (0..headers.len())
        .map(|i| if i == 0 { ":---" } else { "---:" })
        .collect();
    let _ = writeln!(out, "| {} |", align.join(" | "));
    for row in rows {
        let cells: Vec<String> = row.iter().map(|c| escape(c)).collect();
        let _ = writeln!(out, "| {} |", cells.join(" | "));
    }
    out
}

/// Escapes the characters that would break a table cell or start markup.
pub(crate) fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '|' | '\\' | '*' | '_' | '`' | '<' | '>' | '[' | ']' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' => out.push(' '),
            _ => out.push(c),
        }
    }
    out
}

/// `count / total` as a percentage with one decimal ("–" when total is 0).
pub(crate) fn percent(count: usize, total: usize) -> String {
    if total == 0 {
        "–".to_string()
    } else {
        format!("{:.1} %", 100.0 * count as f64 / total as f64)
    }
}

/// A score with four decimals.
pub(crate) fn score(v: f64) -> String {
    format!("{v:.4}")
}

/// An optional score with four decimals, "–" when absent.
pub(crate) fn opt_score(v: Option<f64>) -> String {
    v.map_or_else(|| "–".to_string(), score)
}

/// A Markdown image link to `file` (relative to the report).
pub(crate) fn image(alt: &str, file: &str) -> String {
    format!("![{}]({file})\n", escape(alt))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_escapes_cells_and_aligns_numbers() {
        let t = table(&["name", "n"], &[vec!["a|b".into(), "3".into()]]);
        assert_eq!(t, "| name | n |\n| :--- | ---: |\n| a\\|b | 3 |\n");
    }

    #[test]
    fn percent_and_scores() {
        assert_eq!(percent(1, 3), "33.3 %");
        assert_eq!(percent(0, 0), "–");
        assert_eq!(score(0.123456), "0.1235");
        assert_eq!(opt_score(None), "–");
    }
}
