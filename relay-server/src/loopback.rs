//! The load tools' guard: they only ever send traffic to this machine.

/// The `host:port` of `url` when it starts with one of `schemes` (`"http://"`, ...) and its
/// host is 127.0.0.1, localhost or [::1]; otherwise one sentence naming `tool` and why not.
pub fn authority(url: &str, schemes: &[&str], tool: &str) -> Result<String, String> {
    let rest = schemes
        .iter()
        .find_map(|p| url.strip_prefix(p))
        .ok_or_else(|| format!("{url:?} is not an {} URL", schemes.join(" or ")))?;
    let authority = rest.split('/').next().unwrap_or_default();
    let host = match authority.rsplit_once(':') {
        Some((host, port)) if port.parse::<u16>().is_ok() => host,
        _ => return Err(format!("{url:?} has no port")),
    };
    if !matches!(host, "127.0.0.1" | "localhost" | "[::1]") {
        return Err(format!(
            "{url:?} is not on this machine; {tool} only targets 127.0.0.1, localhost or [::1]"
        ));
    }
    Ok(authority.to_string())
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_loopback_urls_with_a_port_pass() {
        let ok = super::authority("ws://127.0.0.1:8080/x", &["http://", "ws://"], "t");
        assert_eq!(ok.as_deref(), Ok("127.0.0.1:8080"));
        assert!(super::authority("http://10.0.0.1:80", &["http://"], "t").is_err());
        assert!(super::authority("http://localhost", &["http://"], "t").is_err());
        assert!(super::authority("ftp://localhost:1", &["http://"], "t").is_err());
    }
}
