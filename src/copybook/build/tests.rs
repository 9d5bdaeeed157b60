//! Layout tests on small copybooks written here.

use crate::copybook::{parse_copybook, Category, CopyResolver, Copybook, CopybookError, Item, ItemKind, NoCopy, Usage};

fn cb(text: &str) -> Copybook {
    parse_copybook(text, "test.cpy", &NoCopy).unwrap_or_else(|e| panic!("{e}"))
}

fn fail(text: &str) -> CopybookError {
    parse_copybook(text, "test.cpy", &NoCopy).unwrap_err()
}

/// (name, offset, size) of every item, preorder.
fn flat(cb: &Copybook) -> Vec<(String, usize, usize)> {
    fn walk(i: &Item, out: &mut Vec<(String, usize, usize)>) {
        out.push((i.display_name().to_string(), i.offset, i.size));
        if let ItemKind::Group(c) = &i.kind {
            c.iter().for_each(|c| walk(c, out));
        }
    }
    let mut out = Vec::new();
    cb.records.iter().for_each(|r| walk(&r.root, &mut out));
    out
}

fn sizes(text: &str) -> Vec<usize> {
    flat(&cb(text)).into_iter().map(|(_, _, s)| s).collect()
}

#[test]
fn usage_sizes() {
    let t = "       01 R.\n         05 A PIC S9(4) COMP.\n         05 B PIC 9(9) BINARY.\n         05 C PIC S9(18) COMP-5.\n         05 D PIC S9(13)V99 COMP-3.\n         05 E COMP-1.\n         05 F COMP-2.\n         05 G USAGE INDEX.\n         05 H POINTER.\n         05 I PIC N(3).\n         05 J PIC G(2) DISPLAY-1.\n         05 K PIC S9(5) SIGN LEADING SEPARATE.\n         05 L PIC ZZ,ZZ9.99-.\n";
    assert_eq!(sizes(t), [68, 2, 4, 8, 8, 4, 8, 4, 4, 6, 4, 6, 10]);
}

#[test]
fn group_usage_and_sign_inherit() {
    let c = cb("       01 R COMP-3.\n         05 A PIC S9(5).\n         05 T PIC X(3).\n       01 S SIGN LEADING SEPARATE.\n         05 B PIC S9(3).\n");
    assert_eq!(
        flat(&c),
        [("R".into(), 0, 6), ("A".into(), 0, 3), ("T".into(), 3, 3), ("S".into(), 0, 4), ("B".into(), 0, 4)]
    );
    let ItemKind::Group(kids) = &c.records[0].root.kind else { panic!() };
    let ItemKind::Elementary(a) = &kids[0].kind else { panic!() };
    assert_eq!(a.usage, Usage::Packed);
    assert_eq!(a.picture.category, Category::Numeric { digits: 5, scale: 0, signed: true });
}

#[test]
fn occurs_and_redefines() {
    let t = "       01 R.\n         05 A PIC X(4).\n         05 B REDEFINES A PIC 9(2).\n         05 C REDEFINES A PIC X(6).\n         05 T OCCURS 3 TIMES.\n            10 U PIC X(2) OCCURS 2.\n         05 Z PIC X.\n";
    let f = flat(&cb(t));
    assert_eq!(f[0], ("R".into(), 0, 6 + 12 + 1));
    assert_eq!(f[2], ("B".into(), 0, 2));
    assert_eq!(f[3], ("C".into(), 0, 6));
    assert_eq!(f[4], ("T".into(), 6, 4));
    assert_eq!(f[6], ("Z".into(), 18, 1));
    let c = cb(t);
    let ItemKind::Group(k) = &c.records[0].root.kind else { panic!() };
    assert!(k[0].redefined);
}

#[test]
fn odo_uses_max_and_checks_counter() {
    let f = flat(&cb("       01 R.\n         05 N PIC 99.\n         05 T OCCURS 1 TO 5 DEPENDING ON N OF R PIC X(3).\n         05 Z PIC X.\n"));
    assert_eq!(f[3], ("Z".into(), 17, 1));
    let e = fail("       01 TXN-RESP.\n         05 T OCCURS 1 TO 5 DEPENDING ON ROW-CNT PIC X.\n");
    assert_eq!(e.message, "OCCURS DEPENDING ON ROW-CNT is not in record TXN-RESP");
    assert_eq!(e.line, 2);
}

#[test]
fn sync_aligns_from_record_start() {
    let f = flat(&cb("       01 R.\n         05 A PIC X.\n         05 B PIC S9(4) COMP SYNC.\n         05 C PIC X.\n         05 D PIC S9(9) COMP SYNC.\n         05 E PIC X.\n         05 F COMP-2 SYNC.\n"));
    assert_eq!(f.iter().map(|x| x.1).collect::<Vec<_>>(), [0, 0, 2, 4, 8, 12, 16]);
}

#[test]
fn levels_close_by_number() {
    let f = flat(&cb("       01 R.\n         05 G.\n           10 A PIC X.\n         07 B PIC X.\n       01 S PIC X(2).\n       77 W PIC 9.\n"));
    assert_eq!(f.len(), 6);
    let c = cb("       01 R.\n         05 G.\n           10 A PIC X.\n         07 B PIC X.\n");
    let ItemKind::Group(k) = &c.records[0].root.kind else { panic!() };
    assert_eq!(k.len(), 1, "07 closes only the 10: B stays in G");
    let ItemKind::Group(g) = &k[0].kind else { panic!() };
    assert_eq!(g.len(), 2);
}

#[test]
fn implicit_records() {
    let c = cb("       05 A PIC X.\n       05 B PIC X.\n");
    assert_eq!(c.records[0].name, "TEST");
    assert_eq!(c.records[0].root.size, 2);
    let c = cb("       10 TOP.\n         20 A PIC X.\n");
    assert_eq!(c.records[0].name, "TOP");
}

#[test]
fn conditions_and_renames() {
    let c = cb("       01 R.\n         05 A PIC X.\n           88 YES VALUES 'Y' 'J'.\n           88 DIGIT VALUE '0' THRU '9'.\n         05 B PIC X(3).\n         05 C PIC X(2).\n       66 BC RENAMES B THRU C.\n");
    let ItemKind::Group(k) = &c.records[0].root.kind else { panic!() };
    assert_eq!(k[0].conditions.len(), 2);
    assert_eq!((c.records[0].renames[0].offset, c.records[0].renames[0].size), (1, 5));
}

#[test]
fn errors_name_the_line() {
    assert!(fail("       01 R.\n         05 A.\n").message.contains("needs a PICTURE"));
    assert!(fail("       01 R.\n         05 A PIC X OCCURS 100001.\n").message.contains("limit"));
    assert!(fail("       01 R.\n         05 A PIC X(9000000) OCCURS 3.\n").message.contains("larger than"));
    assert!(fail("       01 R.\n         05 A PIC X REDEFINES Q.\n")
        .message
        .contains("REDEFINES Q, but no item comes before it"));
    assert_eq!(fail("       01 R.\n         05 A PIC 9(19) COMP.\n").line, 2);
    assert!(fail("       88 X VALUE 1.\n").message.contains("must follow"));
}

#[test]
fn error_in_copy_member_names_member() {
    struct One;
    impl CopyResolver for One {
        fn resolve(&self, _: &str) -> Option<(String, String)> {
            Some(("member.cpy".into(), "      * c\n       05 A PIC Q.\n".into()))
        }
    }
    let e = parse_copybook("       01 R.\n       COPY M.\n", "top.cpy", &One).unwrap_err();
    assert_eq!((e.file.as_str(), e.line), ("member.cpy", 2));
}
