//! The lexer: source lines (fixed or free format) → tokens with positions.
//!
//! It knows columns, comments, continuation and quoting, and nothing of COBOL words.

use super::format::{self, Directive, SourceFormat, FIXED_END};
use super::{Pos, Token};

/// One line's code area, ready for the tokenizer.
struct CodeLine {
    number: u32,
    /// The code characters.
    code: Vec<char>,
    /// 1-based column of `code[0]`.
    first_col: u32,
    /// A `-` in the indicator column.
    continuation: bool,
    /// Fixed format: open literals run to column 72.
    fixed: bool,
}

enum State {
    Idle,
    Word(String, Pos),
    Literal { text: String, quote: char, pos: Pos },
    Pseudo(String, Pos),
}

/// Splits `text` into tokens, reading it in `format`; an error is `(position, message)`.
pub fn lex(text: &str, file: usize, format: SourceFormat) -> Result<Vec<Token>, (Pos, String)> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let raw: Vec<&str> = text.split('\n').collect();
    let lines: Vec<Vec<char>> = raw.iter().map(|l| format::expand_tabs(l)).collect();
    let detected = format::detect(&lines);
    let mut free = match format {
        SourceFormat::Fixed => false,
        SourceFormat::Free => true,
        SourceFormat::Auto => detected.free,
    };
    // Only a guess is checked: an explicit --format fixed or a >>SOURCE FIXED cuts as the compiler does.
    let mut guessed = format == SourceFormat::Auto;
    let mut code_lines = Vec::new();
    for (idx, chars) in lines.iter().enumerate() {
        let number = u32::try_from(idx + 1).unwrap_or(u32::MAX);
        match format::directive(chars, !free) {
            Some(Directive::Format(f)) => {
                free = f == SourceFormat::Free;
                guessed = false;
                continue;
            }
            Some(Directive::Other) => continue,
            None => {}
        }
        if !free && guessed {
            if let Some(cut) = format::cut_code(chars, format::next_is_continuation(&lines, idx)) {
                let pos = Pos { file, line: number, column: u32::try_from(FIXED_END + 1).unwrap_or(u32::MAX) };
                return Err((pos, cut_message(&cut, raw[idx].contains('\t'), detected.numbered)));
            }
        }
        if let Some(line) = code_line(chars, number, free) {
            code_lines.push(line);
        }
    }
    tokenize(&code_lines, file)
}

fn cut_message(cut: &format::Cut, tabs: bool, numbered: usize) -> String {
    let tabs = if tabs { " (after expanding its tabs to stops of 8)" } else { "" };
    let why_fixed = if numbered > 0 {
        format!("{numbered} lines have sequence numbers in columns 1-6")
    } else {
        "nothing in columns 1-7 rules it out".to_string()
    };
    format!(
        "text past column 72 would be cut{tabs}: {:?} ({}). The file was read as fixed format \
         because {why_fixed}; if it is free format, use --format free; if columns 73-80 hold an \
         identification area, use --format fixed",
        cut.text.trim_start(),
        cut.why
    )
}

fn code_line(chars: &[char], number: u32, free: bool) -> Option<CodeLine> {
    if free {
        let first = chars.iter().position(|c| !c.is_whitespace())?;
        // A `*` or `/` opening a free-format line is a comment (as many tools accept).
        if matches!(chars.get(first), Some('*' | '/')) && chars.get(first + 1) != Some(&'>') {
            return None;
        }
        return Some(CodeLine { number, code: chars.to_vec(), first_col: 1, continuation: false, fixed: false });
    }
    let indicator = chars.get(6).copied().unwrap_or(' ');
    if matches!(indicator, '*' | '/' | 'D' | 'd' | '$') {
        return None;
    }
    let end = chars.len().min(FIXED_END);
    let code = chars.get(7..end).map(<[char]>::to_vec).unwrap_or_default();
    // No entry starts with `*`: a comment whose `*` strayed into the code area.
    let first = code.iter().find(|c| !c.is_whitespace());
    if indicator != '-' && first == Some(&'*') && code.iter().skip_while(|c| c.is_whitespace()).nth(1) != Some(&'>') {
        return None;
    }
    Some(CodeLine { number, code, first_col: 8, continuation: indicator == '-', fixed: true })
}

fn tokenize(lines: &[CodeLine], file: usize) -> Result<Vec<Token>, (Pos, String)> {
    let mut out = Vec::new();
    let mut state = State::Idle;
    let mut last_pos = Pos { file, line: 1, column: 1 };
    for line in lines {
        let pos_of = |j: usize| Pos {
            file,
            line: line.number,
            column: line.first_col.saturating_add(u32::try_from(j).unwrap_or(u32::MAX)),
        };
        let mut j = 0;
        if line.continuation {
            match &mut state {
                State::Literal { quote, .. } => {
                    let q = *quote;
                    match line.code.iter().position(|&c| c == q) {
                        Some(p) if line.code[..p].iter().all(|c| c.is_whitespace()) => j = p + 1,
                        _ => return Err((pos_of(0), "expected a quote to continue the literal".to_string())),
                    }
                }
                _ => j = line.code.iter().position(|c| !c.is_whitespace()).unwrap_or(line.code.len()),
            }
        } else {
            match std::mem::replace(&mut state, State::Idle) {
                State::Word(w, p) => push_word(&mut out, w, p),
                State::Literal { pos, .. } => {
                    return Err((pos, "literal is not closed (and the next line is not a continuation)".to_string()))
                }
                s => state = s,
            }
        }
        while let Some(&c) = line.code.get(j) {
            let next = line.code.get(j + 1).copied();
            let ends_token = next.is_none_or_space();
            match &mut state {
                State::Literal { text, quote, pos } => {
                    text.push(c);
                    if c == *quote {
                        if next == Some(*quote) {
                            text.push(c);
                            j += 1;
                        } else {
                            out.push(Token { text: std::mem::take(text), pos: *pos });
                            state = State::Idle;
                        }
                    }
                }
                State::Pseudo(text, pos) => {
                    if c == '=' && next == Some('=') {
                        text.push_str("==");
                        out.push(Token { text: std::mem::take(text), pos: *pos });
                        state = State::Idle;
                        j += 1;
                    } else {
                        text.push(c);
                    }
                }
                State::Word(word, pos) => {
                    if c.is_whitespace()
                        || (c == '*' && next == Some('>'))
                        || (matches!(c, '.' | ',' | ';') && ends_token)
                    {
                        let (w, p) = (std::mem::take(word), *pos);
                        push_word(&mut out, w, p);
                        state = State::Idle;
                        continue; // look at `c` again as the start of something new
                    } else if c == '\'' || c == '"' {
                        let (w, p) = (std::mem::take(word), *pos);
                        if matches!(w.to_ascii_uppercase().as_str(), "X" | "N" | "G" | "Z" | "NX" | "B") {
                            state = State::Literal { text: format!("{}{c}", w.to_ascii_uppercase()), quote: c, pos: p };
                        } else {
                            push_word(&mut out, w, p);
                            state = State::Literal { text: c.to_string(), quote: c, pos: pos_of(j) };
                        }
                    } else {
                        word.push(c);
                    }
                }
                State::Idle => {
                    if c == '*' && next == Some('>') {
                        break;
                    } else if c == '\'' || c == '"' {
                        state = State::Literal { text: c.to_string(), quote: c, pos: pos_of(j) };
                    } else if c == '=' && next == Some('=') {
                        state = State::Pseudo("==".to_string(), pos_of(j));
                        j += 1;
                    } else if c == '.' && ends_token {
                        out.push(Token { text: ".".to_string(), pos: pos_of(j) });
                    } else if (c == ',' || c == ';') && ends_token || c.is_whitespace() {
                    } else {
                        state = State::Word(c.to_string(), pos_of(j));
                    }
                }
            }
            j += 1;
        }
        match &mut state {
            // In fixed format a literal continued on the next line runs through column 72.
            State::Literal { text, .. } if line.fixed => {
                let width = FIXED_END.saturating_sub(7);
                text.extend(std::iter::repeat_n(' ', width.saturating_sub(line.code.len())));
            }
            State::Literal { pos, .. } => return Err((*pos, "literal is not closed on its line".to_string())),
            State::Pseudo(text, _) => text.push(' '),
            _ => {}
        }
        last_pos = pos_of(line.code.len());
    }
    match state {
        State::Word(w, p) => push_word(&mut out, w, p),
        State::Idle => {}
        State::Literal { pos, .. } | State::Pseudo(_, pos) => {
            return Err((pos, "literal or ==text== is not closed at end of file".to_string()))
        }
    }
    let _ = last_pos;
    Ok(out)
}

fn push_word(out: &mut Vec<Token>, word: String, pos: Pos) {
    out.push(Token { text: word.to_ascii_uppercase(), pos });
}

trait SpaceOrEnd {
    fn is_none_or_space(&self) -> bool;
}

impl SpaceOrEnd for Option<char> {
    fn is_none_or_space(&self) -> bool {
        self.is_none_or(char::is_whitespace)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<String> {
        lex(text, 0, SourceFormat::Auto).unwrap().into_iter().map(|t| t.text).collect()
    }

    #[test]
    fn fixed_format_areas() {
        let t = format!(
            "{:<72}12345678\n000200*comment\n000300D 05 DBG PIC X.\n       05 a pic 9(5).\n",
            "000100 01  REC."
        );
        assert_eq!(words(&t), ["01", "REC", ".", "05", "A", "PIC", "9(5)", "."]);
    }

    #[test]
    fn positions_are_original_columns() {
        let toks = lex("\r\n\t05 A\tPIC X.\r\n", 0, SourceFormat::Auto).unwrap();
        assert_eq!((toks[0].pos.line, toks[0].pos.column), (2, 9));
        assert_eq!(toks[2].pos.column, 17);
    }

    #[test]
    fn edited_picture_keeps_inner_period() {
        assert_eq!(words("       05 A PIC ZZ9.99.\n"), ["05", "A", "PIC", "ZZ9.99", "."]);
    }

    #[test]
    fn literal_continuation() {
        // The literal runs through column 72 (trailing blanks count), then resumes after the quote.
        let first = "       05 A PIC X(70) VALUE 'AB";
        let t = format!("{first}\n      -    'CD'.\n");
        let quote = first.find('\'').unwrap_or(0);
        assert_eq!(words(&t)[5], format!("{:<width$}CD'", &first[quote..], width = 72 - quote));
    }

    #[test]
    fn word_continuation() {
        assert_eq!(words("       05 LONG-NA\n      -    ME PIC X.\n"), ["05", "LONG-NAME", "PIC", "X", "."]);
    }

    #[test]
    fn free_format_detected() {
        let t = " * comment\n01 REC. *> trailing\n   05 A PIC X.\n";
        assert_eq!(words(t), ["01", "REC", ".", "05", "A", "PIC", "X", "."]);
    }

    #[test]
    fn source_format_directive() {
        assert_eq!(words(">>SOURCE FORMAT FREE\n01 R PIC X.\n"), ["01", "R", "PIC", "X", "."]);
    }

    #[test]
    fn hex_literal_and_doubled_quotes() {
        assert_eq!(words("       88 A VALUE x'0F' 'it''s'.\n"), ["88", "A", "VALUE", "X'0F'", "'it''s'", "."]);
    }

    #[test]
    fn separators_comma_semicolon() {
        assert_eq!(words("       88 A VALUES 1, 2; 3.\n"), ["88", "A", "VALUES", "1", "2", "3", "."]);
    }

    #[test]
    fn code_past_column_72_in_a_numbered_file_is_an_error_unless_fixed_is_asked_for() {
        let t = format!("000100 01 R.\n000200     05 A{:<52}PIC X(30).\n000300     05 B PIC X.\n", "");
        let (pos, msg) = lex(&t, 0, SourceFormat::Auto).unwrap_err();
        assert_eq!((pos.line, pos.column), (2, 73));
        assert!(msg.contains("\"(30).\"") && msg.contains("--format free"), "{msg}");
        // As the compiler reads it: the picture loses its length.
        let fixed: Vec<String> = lex(&t, 0, SourceFormat::Fixed).unwrap().into_iter().map(|t| t.text).collect();
        assert_eq!(fixed[3..7], ["05", "A", "PIC", "X"]);
    }

    #[test]
    fn a_long_unnumbered_line_makes_the_file_free() {
        let t = format!("       01 R.\n           05 A{:<60}PIC X(30).\n           05 B PIC X.\n", "");
        assert_eq!(words(&t), ["01", "R", ".", "05", "A", "PIC", "X(30)", ".", "05", "B", "PIC", "X", "."]);
    }

    #[test]
    fn explicit_free_reads_columns_1_to_7_as_code() {
        let t = "01 R.\n05 A PIC X.\n";
        let toks: Vec<String> = lex(t, 0, SourceFormat::Free).unwrap().into_iter().map(|t| t.text).collect();
        assert_eq!(toks, ["01", "R", ".", "05", "A", "PIC", "X", "."]);
    }

    #[test]
    fn a_directive_overrides_the_option() {
        let t = ">>SOURCE FORMAT IS FREE\n01 R.\n  05 A PIC X. *> note\n";
        let toks: Vec<String> = lex(t, 0, SourceFormat::Fixed).unwrap().into_iter().map(|t| t.text).collect();
        assert_eq!(toks, ["01", "R", ".", "05", "A", "PIC", "X", "."]);
    }

    #[test]
    fn unclosed_literal_is_an_error() {
        assert!(lex("       05 A VALUE 'AB\n       05 B.\n", 0, SourceFormat::Auto).is_err());
    }
}
