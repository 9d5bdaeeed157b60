//! What this process's open file descriptors are: each fd's `/proc/self/fd` target, and for a
//! TCP socket its local and remote address and state from `/proc/net/tcp` and `tcp6`. Used by
//! the resource checks of the hardening tests to say WHICH fds stayed open, not just how many.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};

/// One TCP socket from `/proc/net/tcp{,6}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TcpSocket {
    pub local: SocketAddr,
    pub remote: SocketAddr,
    pub state: &'static str,
}

/// Open fds of this process: fd number → `readlink` target (`socket:[inode]`, a path, …).
pub fn open_fds() -> BTreeMap<i32, String> {
    let Ok(dir) = std::fs::read_dir("/proc/self/fd") else { return BTreeMap::new() };
    // The fd this listing reads through is not the process's: left out.
    let listing = format!("/proc/{}/fd", std::process::id());
    dir.flatten()
        .filter_map(|e| {
            let fd = e.file_name().to_str()?.parse().ok()?;
            let target = std::fs::read_link(e.path()).ok()?.display().to_string();
            (target != listing).then_some((fd, target))
        })
        .collect()
}

/// Every TCP socket this network namespace knows, by inode.
pub fn tcp_sockets() -> HashMap<u64, TcpSocket> {
    let mut all = HashMap::new();
    for table in ["/proc/self/net/tcp", "/proc/self/net/tcp6"] {
        let text = std::fs::read_to_string(table).unwrap_or_default();
        for line in text.lines().skip(1) {
            let f: Vec<&str> = line.split_whitespace().collect();
            let (Some(local), Some(remote), Some(state), Some(inode)) =
                (f.get(1).and_then(|a| addr(a)), f.get(2).and_then(|a| addr(a)), f.get(3), f.get(9))
            else {
                continue;
            };
            if let Ok(inode) = inode.parse() {
                all.insert(inode, TcpSocket { local, remote, state: state_name(state) });
            }
        }
    }
    all
}

/// `0100007F:1F90` (or the 32-hex-digit IPv6 form) → 127.0.0.1:8080. The kernel prints each
/// 32-bit word of the address in host (little-endian here) order.
pub fn addr(hex: &str) -> Option<SocketAddr> {
    let (ip, port) = hex.split_once(':')?;
    let port = u16::from_str_radix(port, 16).ok()?;
    let words: Vec<u32> = (0..ip.len() / 8)
        .map(|i| u32::from_str_radix(&ip[i * 8..i * 8 + 8], 16).map(u32::from_be))
        .collect::<Result<_, _>>()
        .ok()?;
    let ip = match words[..] {
        [w] => Ipv4Addr::from(w.to_be_bytes()).into(),
        [a, b, c, d] => {
            let bytes: Vec<u8> = [a, b, c, d].iter().flat_map(|w| w.to_be_bytes()).collect();
            Ipv6Addr::from(<[u8; 16]>::try_from(bytes).ok()?).into()
        }
        _ => return None,
    };
    Some(SocketAddr::new(ip, port))
}

fn state_name(hex: &str) -> &'static str {
    match hex {
        "01" => "ESTABLISHED",
        "02" => "SYN_SENT",
        "03" => "SYN_RECV",
        "04" => "FIN_WAIT1",
        "05" => "FIN_WAIT2",
        "06" => "TIME_WAIT",
        "07" => "CLOSE",
        "08" => "CLOSE_WAIT",
        "09" => "LAST_ACK",
        "0A" => "LISTEN",
        "0B" => "CLOSING",
        _ => "?",
    }
}

/// One line per fd: `fd 31 -> socket:[123] tcp 127.0.0.1:40000 -> 127.0.0.1:41000 ESTABLISHED`.
pub fn describe(fds: &BTreeMap<i32, String>) -> String {
    let sockets = tcp_sockets();
    if fds.is_empty() {
        return " (none)".into();
    }
    let mut out = String::new();
    for (fd, target) in fds {
        let _ = write!(out, "\n  fd {fd} -> {target}");
        if let Some(s) = tcp_of(target, &sockets) {
            let _ = write!(out, " tcp {} -> {} {}", s.local, s.remote, s.state);
        }
    }
    out
}

/// The fds in `now` that were not in `before` — new numbers, or numbers that point at another
/// file or socket now.
pub fn opened_since(before: &BTreeMap<i32, String>, now: &BTreeMap<i32, String>) -> BTreeMap<i32, String> {
    now.iter().filter(|(fd, t)| before.get(fd) != Some(t)).map(|(fd, t)| (*fd, t.clone())).collect()
}

/// The TCP socket an fd target (`socket:[inode]`) names, if it is one.
pub fn tcp_of<'a>(target: &str, sockets: &'a HashMap<u64, TcpSocket>) -> Option<&'a TcpSocket> {
    let inode: u64 = target.strip_prefix("socket:[")?.strip_suffix(']')?.parse().ok()?;
    sockets.get(&inode)
}
