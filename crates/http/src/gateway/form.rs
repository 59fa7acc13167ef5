//! Reading the legacy upload form (`multipart/form-data`) as it streams past.
//!
//! The gateway must learn the project (`name`) before it forwards anything, yet must not
//! buffer the file: the scanner collects the text fields that precede the first file
//! part (the *preamble*, capped), then keeps watching the rest of the stream without
//! keeping it, so a second `name` or `content` hidden after the file (which an index
//! reading the last value would honour) stops the upload instead of slipping past the
//! token check.

use memchr::memmem;

/// Largest header block of one part.
const MAX_PART_HEADER_BYTES: usize = 8 * 1024;

/// Fields that may appear only once: the project and the file decide what the token
/// must allow.
const SINGLE_FIELDS: [&str; 3] = ["name", "version", "content"];

/// Why the form is refused. Every variant is the client's fault (HTTP 400).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum FormError {
    /// The content type is not `multipart/form-data` with a usable boundary.
    #[error("the upload must be multipart/form-data with a boundary")]
    NotMultipart,
    /// The body does not follow its boundary.
    #[error("malformed multipart body: {0}")]
    Malformed(&'static str),
    /// The fields before the file are larger than the cap.
    #[error("the form fields before the file are larger than {0} bytes")]
    PreambleTooLarge(usize),
    /// No `name` field precedes the file.
    #[error("the form field 'name' must come before the file")]
    MissingName,
    /// A field that decides the upload appears twice.
    #[error("the form field '{0}' appears more than once")]
    DuplicateField(String),
    /// A file in another field than `content` (or a signature not named after it).
    #[error(
        "unexpected file in the form field '{0}': the distribution goes in 'content', a signature in 'gpg_signature' named '<file>.asc'"
    )]
    UnexpectedFile(String),
}

/// What precedes the file: the text fields in order, and the file part's names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Preamble {
    /// Text fields before the first file part, in order.
    pub(crate) fields: Vec<(String, String)>,
    /// The first file part's form field name (`content`), if any.
    pub(crate) file_field: Option<String>,
    /// Its file name, as sent.
    pub(crate) file_name: Option<String>,
}

impl Preamble {
    /// The value of the text field `name`, if present.
    pub(crate) fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(field, _)| field == name)
            .map(|(_, value)| value.as_str())
    }
}

/// The boundary of a `multipart/form-data` content type.
pub(crate) fn boundary(content_type: &str) -> Result<String, FormError> {
    let mut parts = content_type.split(';');
    let mime = parts.next().unwrap_or_default().trim();
    if !mime.eq_ignore_ascii_case("multipart/form-data") {
        return Err(FormError::NotMultipart);
    }
    for param in parts {
        let Some((key, value)) = param.split_once('=') else {
            continue;
        };
        if key.trim().eq_ignore_ascii_case("boundary") {
            let value = value.trim();
            let value = value
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .unwrap_or(value);
            // RFC 2046: 1–70 characters; no CR/LF (they would split the delimiter).
            if value.is_empty() || value.len() > 70 || value.contains(['\r', '\n']) {
                return Err(FormError::NotMultipart);
            }
            return Ok(value.to_owned());
        }
    }
    Err(FormError::NotMultipart)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Before the first delimiter, which must open the body.
    Start,
    /// Just after a delimiter: `\r\n` (a part follows) or `--` (the end).
    AfterDelimiter,
    /// Reading a part's header block.
    Headers,
    /// Inside a part's content.
    Body(Collect),
    /// After the closing delimiter: the epilogue is ignored.
    Done,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Collect {
    /// A text field of the preamble: its value is kept.
    Keep,
    /// Anything else: watched for the delimiter only.
    Skip,
}

/// The incremental scanner. Feed it the body chunk by chunk.
#[derive(Debug)]
pub(crate) struct FormScanner {
    /// `\r\n--<boundary>`.
    delimiter: Vec<u8>,
    /// Bytes not yet classified: never more than a header block or a delimiter's
    /// length plus one chunk.
    pending: Vec<u8>,
    state: State,
    preamble_limit: usize,
    consumed: usize,
    preamble: Preamble,
    value: Vec<u8>,
    /// Set once the first file part's headers were read (or the form ended).
    preamble_done: bool,
    seen: Vec<String>,
}

impl FormScanner {
    /// A scanner for `boundary` whose preamble may hold at most `preamble_limit` bytes.
    pub(crate) fn new(boundary: &str, preamble_limit: usize) -> Self {
        let mut delimiter = b"\r\n--".to_vec();
        delimiter.extend_from_slice(boundary.as_bytes());
        Self {
            delimiter,
            // The first delimiter has no CRLF before it: pretend it had.
            pending: b"\r\n".to_vec(),
            state: State::Start,
            preamble_limit,
            consumed: 0,
            preamble: Preamble::default(),
            value: Vec::new(),
            preamble_done: false,
            seen: Vec::new(),
        }
    }

    /// The preamble, once the first file part has begun (or the form has ended).
    pub(crate) fn preamble(&self) -> Option<&Preamble> {
        self.preamble_done.then_some(&self.preamble)
    }

    /// Scans the next chunk of the body.
    pub(crate) fn feed(&mut self, chunk: &[u8]) -> Result<(), FormError> {
        if !self.preamble_done {
            self.consumed = self.consumed.saturating_add(chunk.len());
        }
        self.pending.extend_from_slice(chunk);
        self.advance()?;
        if !self.preamble_done && self.consumed > self.preamble_limit {
            return Err(FormError::PreambleTooLarge(self.preamble_limit));
        }
        Ok(())
    }

    /// The body has ended: it must have ended with the closing delimiter.
    pub(crate) fn finish(&mut self) -> Result<(), FormError> {
        if self.state != State::Done {
            return Err(FormError::Malformed(
                "the body ends before the closing boundary",
            ));
        }
        if self.preamble.field("name").is_none() {
            return Err(FormError::MissingName);
        }
        self.preamble_done = true;
        Ok(())
    }

    fn advance(&mut self) -> Result<(), FormError> {
        loop {
            match self.state {
                State::Done => {
                    // Clients end with CRLF. Anything else after the closing boundary is
                    // refused: another parser might read it as more parts.
                    if self.pending.iter().any(|b| !b.is_ascii_whitespace()) {
                        return Err(FormError::Malformed("data after the closing boundary"));
                    }
                    self.pending.clear();
                    return Ok(());
                }
                State::Start => {
                    if self.pending.len() < self.delimiter.len() {
                        if !self.delimiter.starts_with(&self.pending) {
                            return Err(FormError::Malformed(
                                "the body does not start with the boundary",
                            ));
                        }
                        return Ok(());
                    }
                    if !self.pending.starts_with(&self.delimiter) {
                        return Err(FormError::Malformed(
                            "the body does not start with the boundary",
                        ));
                    }
                    self.pending.drain(..self.delimiter.len());
                    self.state = State::AfterDelimiter;
                }
                State::AfterDelimiter => {
                    if self.pending.len() < 2 {
                        return Ok(());
                    }
                    match &self.pending[..2] {
                        b"\r\n" => self.state = State::Headers,
                        b"--" => {
                            self.state = State::Done;
                            if !self.preamble_done {
                                // A form without a file: what was read is all there is.
                                if self.preamble.field("name").is_none() {
                                    return Err(FormError::MissingName);
                                }
                                self.preamble_done = true;
                            }
                        }
                        _ => {
                            return Err(FormError::Malformed(
                                "a boundary is followed by neither CRLF nor '--'",
                            ));
                        }
                    }
                    self.pending.drain(..2);
                }
                State::Headers => {
                    let Some(end) = memmem::find(&self.pending, b"\r\n\r\n") else {
                        if self.pending.len() > MAX_PART_HEADER_BYTES {
                            return Err(FormError::Malformed("a part's headers are too large"));
                        }
                        return Ok(());
                    };
                    if end > MAX_PART_HEADER_BYTES {
                        return Err(FormError::Malformed("a part's headers are too large"));
                    }
                    let headers = std::str::from_utf8(&self.pending[..end])
                        .map_err(|_| FormError::Malformed("a part's headers are not UTF-8"))?;
                    let (name, file_name) = content_disposition(headers)?;
                    self.pending.drain(..end + 4);
                    self.state = State::Body(self.begin_part(name, file_name)?);
                }
                State::Body(collect) => {
                    match memmem::find(&self.pending, &self.delimiter) {
                        Some(at) => {
                            if collect == Collect::Keep {
                                self.value.extend_from_slice(&self.pending[..at]);
                                self.end_text_field()?;
                            }
                            self.pending.drain(..at + self.delimiter.len());
                            self.state = State::AfterDelimiter;
                        }
                        None => {
                            // Keep what could be the start of a delimiter split across
                            // chunks; everything before it is content.
                            let keep = self.delimiter.len() - 1;
                            let cut = self.pending.len().saturating_sub(keep);
                            if collect == Collect::Keep {
                                self.value.extend_from_slice(&self.pending[..cut]);
                            }
                            self.pending.drain(..cut);
                            return Ok(());
                        }
                    }
                }
            }
        }
    }

    /// Checks a new part against the rules and says whether its value is kept.
    fn begin_part(
        &mut self,
        name: String,
        file_name: Option<String>,
    ) -> Result<Collect, FormError> {
        if SINGLE_FIELDS.contains(&name.as_str()) {
            if self.seen.contains(&name) {
                return Err(FormError::DuplicateField(name));
            }
            self.seen.push(name.clone());
        }
        if self.preamble_done {
            // After the distribution only its signature may be another file: an index
            // must never find a second distribution the token was not checked for.
            if let Some(file_name) = file_name {
                let signature = self
                    .preamble
                    .file_name
                    .as_ref()
                    .map(|content| format!("{content}.asc"));
                if name != "gpg_signature" || signature.as_deref() != Some(file_name.as_str()) {
                    return Err(FormError::UnexpectedFile(name));
                }
            }
            return Ok(Collect::Skip);
        }
        match file_name {
            Some(file_name) => {
                if self.preamble.field("name").is_none() {
                    return Err(FormError::MissingName);
                }
                if name != "content" {
                    return Err(FormError::UnexpectedFile(name));
                }
                self.preamble.file_field = Some(name);
                self.preamble.file_name = Some(file_name);
                self.preamble_done = true;
                Ok(Collect::Skip)
            }
            None => {
                self.preamble.fields.push((name, String::new()));
                self.value.clear();
                Ok(Collect::Keep)
            }
        }
    }

    fn end_text_field(&mut self) -> Result<(), FormError> {
        let value = String::from_utf8(std::mem::take(&mut self.value))
            .map_err(|_| FormError::Malformed("a form field is not UTF-8"))?;
        if let Some(last) = self.preamble.fields.last_mut() {
            last.1 = value;
        }
        Ok(())
    }
}

/// `(name, filename)` from a part's `Content-Disposition: form-data; name=…; filename=…`.
fn content_disposition(headers: &str) -> Result<(String, Option<String>), FormError> {
    let missing = FormError::Malformed("a part has no Content-Disposition form-data name");
    let mut dispositions = headers.split("\r\n").filter_map(|line| {
        let (key, value) = line.split_once(':')?;
        key.trim()
            .eq_ignore_ascii_case("content-disposition")
            .then_some(value)
    });
    let value = dispositions.next().ok_or(missing.clone())?;
    if dispositions.next().is_some() {
        return Err(FormError::Malformed(
            "a part has more than one Content-Disposition",
        ));
    }
    let mut params = split_params(value)?.into_iter();
    let disposition = params.next().map(|(key, _)| key).unwrap_or_default();
    if !disposition.eq_ignore_ascii_case("form-data") {
        return Err(missing);
    }
    let mut name = None;
    let mut file_name = None;
    for (key, value) in params {
        match key.to_ascii_lowercase().as_str() {
            "name" => name = Some(value),
            // `filename*` (RFC 5987) names a file too; its raw value is kept as the name.
            "filename" | "filename*" => file_name = Some(value),
            _ => {}
        }
    }
    match name {
        Some(name) if !name.is_empty() => Ok((name, file_name)),
        _ => Err(missing),
    }
}

/// `form-data; name="a;b"; filename=x` → `[("form-data", ""), ("name", "a;b"),
/// ("filename", "x")]`, honouring quotes and backslash escapes.
fn split_params(value: &str) -> Result<Vec<(String, String)>, FormError> {
    let mut params = Vec::new();
    let mut chars = value.trim().chars().peekable();
    loop {
        let mut key = String::new();
        while let Some(&c) = chars.peek() {
            if c == '=' || c == ';' {
                break;
            }
            key.push(c);
            chars.next();
        }
        let mut param_value = String::new();
        if chars.peek() == Some(&'=') {
            chars.next();
            while chars.peek() == Some(&' ') {
                chars.next();
            }
            if chars.peek() == Some(&'"') {
                chars.next();
                let mut closed = false;
                while let Some(c) = chars.next() {
                    match c {
                        '\\' => param_value.extend(chars.next()),
                        '"' => {
                            closed = true;
                            break;
                        }
                        c => param_value.push(c),
                    }
                }
                if !closed {
                    return Err(FormError::Malformed("an unterminated quoted parameter"));
                }
                while chars.peek().is_some_and(|c| *c != ';') {
                    chars.next();
                }
            } else {
                while let Some(&c) = chars.peek() {
                    if c == ';' {
                        break;
                    }
                    param_value.push(c);
                    chars.next();
                }
                param_value = param_value.trim().to_owned();
            }
        }
        params.push((key.trim().to_owned(), param_value));
        if chars.next().is_none() {
            return Ok(params);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BOUNDARY: &str = "----b0undary";

    /// A form of `(name, filename, value)` parts, as twine and uv send it.
    fn form(parts: &[(&str, Option<&str>, &[u8])]) -> Vec<u8> {
        let mut body = Vec::new();
        for (name, file_name, value) in parts {
            body.extend_from_slice(format!("--{BOUNDARY}\r\n").as_bytes());
            match file_name {
                Some(file) => body.extend_from_slice(
                    format!("Content-Disposition: form-data; name=\"{name}\"; filename=\"{file}\"\r\nContent-Type: application/octet-stream\r\n\r\n").as_bytes(),
                ),
                None => body.extend_from_slice(
                    format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes(),
                ),
            }
            body.extend_from_slice(value);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
        body
    }

    /// Scans `body` in chunks of `chunk` bytes; the preamble, or the first error.
    fn scan(body: &[u8], chunk: usize, limit: usize) -> Result<Preamble, FormError> {
        let mut scanner = FormScanner::new(BOUNDARY, limit);
        for piece in body.chunks(chunk) {
            scanner.feed(piece)?;
        }
        scanner.finish()?;
        Ok(scanner.preamble().cloned().expect("preamble after finish"))
    }

    fn upload(extra_after_file: &[(&str, Option<&str>, &[u8])]) -> Vec<u8> {
        let mut parts: Vec<(&str, Option<&str>, &[u8])> = vec![
            (":action", None, b"file_upload"),
            ("protocol_version", None, b"1"),
            ("name", None, b"Sample_Project"),
            ("version", None, b"1.0"),
            ("sha256_digest", None, b"ab12"),
            (
                "content",
                Some("sample_project-1.0.tar.gz"),
                b"\x1f\x8b binary \r\n--not-the-boundary \r\n\r\n data",
            ),
        ];
        parts.extend_from_slice(extra_after_file);
        form(&parts)
    }

    #[test]
    fn fields_before_the_file_are_read_in_order_at_any_chunk_size() {
        let body = upload(&[]);
        for chunk in [1, 2, 3, 7, 16, 64, body.len()] {
            let preamble = scan(&body, chunk, 4096).expect("valid form");
            let names: Vec<&str> = preamble.fields.iter().map(|(n, _)| n.as_str()).collect();
            assert_eq!(
                names,
                [
                    ":action",
                    "protocol_version",
                    "name",
                    "version",
                    "sha256_digest"
                ],
                "chunk {chunk}"
            );
            assert_eq!(preamble.field("name"), Some("Sample_Project"));
            assert_eq!(preamble.field("version"), Some("1.0"));
            assert_eq!(preamble.file_field.as_deref(), Some("content"));
            assert_eq!(
                preamble.file_name.as_deref(),
                Some("sample_project-1.0.tar.gz")
            );
        }
    }

    #[test]
    fn the_preamble_is_known_as_soon_as_the_file_begins() {
        let body = upload(&[]);
        let file_starts = memmem::find(&body, b"\x1f\x8b").unwrap();
        let mut scanner = FormScanner::new(BOUNDARY, 4096);
        scanner.feed(&body[..file_starts]).unwrap();
        assert_eq!(
            scanner.preamble().unwrap().field("name"),
            Some("Sample_Project")
        );
    }

    #[test]
    fn a_name_must_precede_the_file() {
        let body = form(&[
            ("version", None, b"1.0"),
            ("content", Some("x-1.0.tar.gz"), b"data"),
            ("name", None, b"x"),
        ]);
        assert_eq!(scan(&body, 5, 4096), Err(FormError::MissingName));
        let no_file = form(&[("version", None, b"1.0")]);
        assert_eq!(scan(&no_file, 5, 4096), Err(FormError::MissingName));
    }

    #[test]
    fn a_second_name_or_file_after_the_file_is_refused() {
        for (field, file) in [
            ("name", None),
            ("content", Some("other-1.0.tar.gz")),
            ("version", None),
        ] {
            let body = upload(&[(field, file, b"other")]);
            assert_eq!(
                scan(&body, 9, 4096),
                Err(FormError::DuplicateField(field.to_owned())),
                "{field}"
            );
        }
        // Other fields after the file (its signature, attestations) are fine.
        let body = upload(&[
            (
                "gpg_signature",
                Some("sample_project-1.0.tar.gz.asc"),
                b"sig",
            ),
            ("attestations", None, b"[]"),
        ]);
        assert_eq!(scan(&body, 9, 4096).err(), None);
        // Any other file is refused, wherever it is.
        for (field, file) in [
            ("gpg_signature", "victim-1.0.tar.gz.asc"),
            ("content2", "victim-1.0.tar.gz"),
        ] {
            let body = upload(&[(field, Some(file), b"x")]);
            assert_eq!(
                scan(&body, 9, 4096),
                Err(FormError::UnexpectedFile(field.to_owned()))
            );
        }
        let first_file_elsewhere = form(&[
            ("name", None, b"x"),
            ("upload", Some("x-1.0.tar.gz"), b"data"),
            ("content", Some("victim-1.0.tar.gz"), b"data"),
        ]);
        assert_eq!(
            scan(&first_file_elsewhere, 9, 4096),
            Err(FormError::UnexpectedFile("upload".to_owned()))
        );
    }

    #[test]
    fn an_oversized_preamble_is_refused() {
        let long = vec![b'a'; 5000];
        let body = form(&[
            ("description", None, &long),
            ("name", None, b"x"),
            ("content", Some("x-1.0.tar.gz"), b"data"),
        ]);
        assert_eq!(
            scan(&body, 100, 4096),
            Err(FormError::PreambleTooLarge(4096))
        );
        // The file itself does not count against the cap.
        let big_file = vec![b'z'; 100_000];
        let body = form(&[
            ("name", None, b"x"),
            ("content", Some("x-1.0.tar.gz"), &big_file),
        ]);
        assert!(scan(&body, 1000, 4096).is_ok());
    }

    #[test]
    fn malformed_boundaries_are_refused() {
        let good = upload(&[]);
        let cases: Vec<(Vec<u8>, FormError)> = vec![
            (
                b"garbage before\r\n".iter().chain(&good).copied().collect(),
                FormError::Malformed("the body does not start with the boundary"),
            ),
            (
                good.replace_once(format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"name\""), format!("--{BOUNDARY}XContent-Disposition: form-data; name=\"name\"")),
                FormError::Malformed("a boundary is followed by neither CRLF nor '--'"),
            ),
            (
                good[..good.len() - 10].to_vec(),
                FormError::Malformed("the body ends before the closing boundary"),
            ),
            (
                format!("--{BOUNDARY}\r\nContent-Type: text/plain\r\n\r\nx\r\n--{BOUNDARY}--").into_bytes(),
                FormError::Malformed("a part has no Content-Disposition form-data name"),
            ),
            (
                format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"x\r\n\r\nx\r\n--{BOUNDARY}--").into_bytes(),
                FormError::Malformed("an unterminated quoted parameter"),
            ),
            (
                format!("--{BOUNDARY}\r\nX: {}\r\n\r\n", "h".repeat(9000)).into_bytes(),
                FormError::Malformed("a part's headers are too large"),
            ),
            (
                format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"name\"\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\nx\r\n--{BOUNDARY}--").into_bytes(),
                FormError::Malformed("a part has more than one Content-Disposition"),
            ),
            (
                good.iter().chain(format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\nvictim\r\n").as_bytes()).copied().collect(),
                FormError::Malformed("data after the closing boundary"),
            ),
        ];
        for (body, expected) in cases {
            assert_eq!(
                scan(&body, 13, 64 * 1024),
                Err(expected.clone()),
                "{expected}"
            );
        }
    }

    #[test]
    fn content_types_without_a_usable_boundary_are_refused() {
        assert_eq!(
            boundary("multipart/form-data; boundary=abc").unwrap(),
            "abc"
        );
        assert_eq!(
            boundary("Multipart/Form-Data; charset=utf-8; boundary=\"a b\"").unwrap(),
            "a b"
        );
        for bad in [
            "application/json",
            "multipart/form-data",
            "multipart/form-data; boundary=",
            "multipart/mixed; boundary=abc",
        ] {
            assert_eq!(boundary(bad), Err(FormError::NotMultipart), "{bad}");
        }
        assert_eq!(
            boundary(&format!("multipart/form-data; boundary={}", "x".repeat(71))),
            Err(FormError::NotMultipart)
        );
    }

    #[test]
    fn quoted_parameters_keep_semicolons_and_escapes() {
        let (name, file) = content_disposition(
            "Content-Disposition: form-data; name=\"a;b\"; filename=\"q\\\"x.whl\"",
        )
        .unwrap();
        assert_eq!(name, "a;b");
        assert_eq!(file.as_deref(), Some("q\"x.whl"));
    }

    trait ReplaceOnce {
        fn replace_once(&self, from: String, to: String) -> Vec<u8>;
    }

    impl ReplaceOnce for Vec<u8> {
        fn replace_once(&self, from: String, to: String) -> Vec<u8> {
            let at = memmem::find(self, from.as_bytes()).expect("pattern present");
            let mut out = self[..at].to_vec();
            out.extend_from_slice(to.as_bytes());
            out.extend_from_slice(&self[at + from.len()..]);
            out
        }
    }
}
