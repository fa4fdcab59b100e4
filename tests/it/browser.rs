//! The catalog page in a real browser: headless Chromium (Debian's `chromium`, installed by
//! `.ci/run`) driven by `chromedriver` over the W3C WebDriver protocol. Search for a package with
//! the real form, open it, see its install command; filter by a category.
//!
//! Without `/usr/bin/chromium` and `/usr/bin/chromedriver` the test is skipped with a note, unless
//! `CI` is set: CI must run it. Screenshots are saved to `target/browser/` for people to look at.

use std::collections::BTreeSet;
use std::fs::File;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{Value, json};

use crate::support::{TestServer, root};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// The key of a web element reference in WebDriver answers.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";
/// How long any one thing in the browser may take (starting, a page load, an element appearing).
const DEADLINE: Duration = Duration::from_secs(20);
const POLL: Duration = Duration::from_millis(100);

/// Whether the browser is installed; fails under CI when it is not.
fn browser_installed() -> bool {
    let missing: Vec<&str> = [CHROMIUM, CHROMEDRIVER]
        .into_iter()
        .filter(|p| !Path::new(p).exists())
        .collect();
    if missing.is_empty() {
        return true;
    }
    let msg = format!(
        "the browser test needs {} (`apt-get install chromium chromium-driver`; `.ci/run` installs them)",
        missing.join(" and ")
    );
    assert!(std::env::var_os("CI").is_none(), "CI is set but {msg}");
    eprintln!("note: skipping the browser test: {msg}");
    false
}

/// Where screenshots go: `target/browser/` (next to `CARGO_TARGET_TMPDIR`, so a custom target
/// directory is respected).
fn screenshot_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .map_or_else(|| root().join("target"), Path::to_path_buf)
        .join("browser");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Polls `f` every [`POLL`] until it gives a value, failing after [`DEADLINE`].
fn wait_for<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + DEADLINE;
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {DEADLINE:?} waiting for {what}"
        );
        std::thread::sleep(POLL);
    }
}

fn http() -> reqwest::blocking::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::blocking::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap()
}

/// A `chromedriver` child process on a free local port; killed on drop. Owns the temporary
/// folder with its log and the browser profile.
struct Driver {
    child: Child,
    url: String,
    tmp: tempfile::TempDir,
}

impl Driver {
    fn start(http: &reqwest::blocking::Client) -> Self {
        let mut tmp = tempfile::tempdir().unwrap();
        let log = tmp.path().join("chromedriver.log");
        let mut last_error = String::new();
        // A free port can be taken between probing and chromedriver binding it: retry a little.
        for _ in 0..3 {
            let port = TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port();
            let out = File::create(&log).unwrap();
            let child = Command::new(CHROMEDRIVER)
                .arg(format!("--port={port}"))
                .stdin(Stdio::null())
                .stdout(out.try_clone().unwrap())
                .stderr(out)
                .spawn()
                .unwrap_or_else(|e| panic!("cannot start {CHROMEDRIVER}: {e}"));
            let mut driver = Driver {
                child,
                url: format!("http://127.0.0.1:{port}"),
                tmp,
            };
            match driver.wait_ready(http) {
                Ok(()) => return driver,
                Err(e) => last_error = e,
            }
            tmp = std::mem::replace(&mut driver.tmp, tempfile::tempdir().unwrap());
            // `driver` is dropped here, killing the child; its log is kept in `tmp`.
        }
        panic!(
            "chromedriver did not become ready: {last_error}\n{}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
    }

    fn wait_ready(&mut self, http: &reqwest::blocking::Client) -> Result<(), String> {
        let deadline = Instant::now() + DEADLINE;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!("chromedriver exited: {status}"));
            }
            let ready = http
                .get(format!("{}/status", self.url))
                .timeout(Duration::from_secs(2))
                .send()
                .and_then(|r| r.json::<Value>())
                .is_ok_and(|v| v["value"]["ready"] == true);
            if ready {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(format!("not ready after {DEADLINE:?}"));
            }
            std::thread::sleep(POLL);
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.tmp.path().join("chromedriver.log")).unwrap_or_default()
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            let log = self.log();
            let tail: Vec<&str> = log.lines().rev().take(40).collect();
            eprintln!("--- chromedriver log (last lines) ---");
            for line in tail.into_iter().rev() {
                eprintln!("{line}");
            }
        }
    }
}

/// A WebDriver session: one headless Chromium. Deleted on drop (with a screenshot to
/// `target/browser/failure.png` first when the test is failing).
struct Browser {
    http: reqwest::blocking::Client,
    session: String,
}

impl Browser {
    fn new(http: &reqwest::blocking::Client, driver: &Driver) -> Self {
        let profile = driver.tmp.path().join("profile");
        let args = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--window-size=1280,1000",
            // Hermetic: only the test server is reachable, whatever the machine's network
            // (package icons on other hosts fail the same way everywhere).
            "--no-proxy-server",
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
            &format!("--user-data-dir={}", profile.display()),
        ];
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "pageLoadStrategy": "normal",
            "timeouts": {"implicit": 0, "pageLoad": DEADLINE.as_millis() as u64, "script": 5000},
            "goog:chromeOptions": {"binary": CHROMIUM, "args": args},
        }}});
        let started = Instant::now();
        let v = request(
            http,
            reqwest::Method::POST,
            &format!("{}/session", driver.url),
            Some(&caps),
        )
        .unwrap_or_else(|e| panic!("cannot start a browser session: {e}"));
        let session = v["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no sessionId in {v}"))
            .to_string();
        eprintln!(
            "browser: {} {} started in {:?}",
            v["capabilities"]["browserName"].as_str().unwrap_or("?"),
            v["capabilities"]["browserVersion"].as_str().unwrap_or("?"),
            started.elapsed()
        );
        Self {
            http: http.clone(),
            session: format!("{}/session/{session}", driver.url),
        }
    }

    fn try_call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, String> {
        request(&self.http, method, &format!("{}{path}", self.session), body)
    }

    fn call(&self, method: reqwest::Method, path: &str, body: Option<&Value>) -> Value {
        self.try_call(method.clone(), path, body)
            .unwrap_or_else(|e| panic!("WebDriver {method} {path}: {e}"))
    }

    fn get(&self, path: &str) -> Value {
        self.call(reqwest::Method::GET, path, None)
    }

    fn post(&self, path: &str, body: Value) -> Value {
        self.call(reqwest::Method::POST, path, Some(&body))
    }

    fn goto(&self, url: &str) {
        self.post("/url", json!({"url": url}));
    }

    fn current_url(&self) -> String {
        self.get("/url").as_str().unwrap_or_default().to_string()
    }

    fn title(&self) -> String {
        self.get("/title").as_str().unwrap_or_default().to_string()
    }

    fn wait_url(&self, part: &str) -> String {
        wait_for(&format!("a URL containing {part:?}"), || {
            let url = self.current_url();
            url.contains(part).then_some(url)
        })
    }

    fn find_all(&self, css: &str) -> Result<Vec<Element<'_>>, String> {
        let v = self.try_call(
            reqwest::Method::POST,
            "/elements",
            Some(&json!({"using": "css selector", "value": css})),
        )?;
        Ok(v.as_array()
            .map(|a| a.iter().filter_map(|e| self.element(e)).collect())
            .unwrap_or_default())
    }

    fn element(&self, v: &Value) -> Option<Element<'_>> {
        Some(Element {
            browser: self,
            id: v[ELEMENT].as_str()?.to_string(),
        })
    }

    /// Waits for an element to be in the page.
    fn wait_element(&self, css: &str) -> Element<'_> {
        wait_for(&format!("an element matching {css:?}"), || {
            self.find_all(css).ok()?.into_iter().next()
        })
    }

    /// Reads something from all elements matching `css` once there is at least one, retrying
    /// while the page is changing (stale elements).
    fn wait_read_all(
        &self,
        css: &str,
        read: impl Fn(&Element) -> Result<String, String>,
    ) -> Vec<String> {
        wait_for(&format!("elements matching {css:?}"), || {
            let els = self.find_all(css).ok()?;
            if els.is_empty() {
                return None;
            }
            els.iter().map(&read).collect::<Result<Vec<_>, _>>().ok()
        })
    }

    fn screenshot(&self, path: &Path) {
        let b64 = self.get("/screenshot");
        let png = base64::engine::general_purpose::STANDARD
            .decode(b64.as_str().unwrap_or_default())
            .unwrap();
        assert!(png.starts_with(b"\x89PNG"), "the screenshot is not a PNG");
        std::fs::write(path, png).unwrap();
        eprintln!("screenshot: {}", path.display());
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let path = screenshot_dir().join("failure.png");
            if let Ok(v) = self.try_call(reqwest::Method::GET, "/screenshot", None)
                && let Ok(png) =
                    base64::engine::general_purpose::STANDARD.decode(v.as_str().unwrap_or_default())
            {
                let _ = std::fs::write(&path, png);
                eprintln!("screenshot of the failure: {}", path.display());
            }
            if let Ok(url) = self.try_call(reqwest::Method::GET, "/url", None) {
                eprintln!("the browser was at {url}");
            }
        }
        let _ = self.try_call(reqwest::Method::DELETE, "", None);
    }
}

struct Element<'a> {
    browser: &'a Browser,
    id: String,
}

impl Element<'_> {
    fn path(&self, what: &str) -> String {
        format!("/element/{}/{what}", self.id)
    }

    fn click(&self) {
        self.browser.post(&self.path("click"), json!({}));
    }

    fn clear(&self) {
        self.browser.post(&self.path("clear"), json!({}));
    }

    fn send_keys(&self, text: &str) {
        self.browser
            .post(&self.path("value"), json!({"text": text}));
    }

    fn text(&self) -> Result<String, String> {
        let v = self
            .browser
            .try_call(reqwest::Method::GET, &self.path("text"), None)?;
        Ok(v.as_str().unwrap_or_default().to_string())
    }

    fn attribute(&self, name: &str) -> Result<String, String> {
        let v = self.browser.try_call(
            reqwest::Method::GET,
            &self.path(&format!("attribute/{name}")),
            None,
        )?;
        Ok(v.as_str().unwrap_or_default().to_string())
    }
}

/// One WebDriver call: the answer's `value`, or its error and message.
fn request(
    http: &reqwest::blocking::Client,
    method: reqwest::Method,
    url: &str,
    body: Option<&Value>,
) -> Result<Value, String> {
    let mut req = http.request(method, url);
    if let Some(body) = body {
        req = req.json(body);
    }
    let resp = req.send().map_err(|e| e.to_string())?;
    let status = resp.status();
    let v: Value = resp.json().map_err(|e| format!("{status}: {e}"))?;
    let value = v.get("value").cloned().unwrap_or(Value::Null);
    if !status.is_success() || value.get("error").is_some() {
        return Err(format!(
            "{status}: {} {}",
            value["error"].as_str().unwrap_or("?"),
            value["message"].as_str().unwrap_or_default()
        ));
    }
    Ok(value)
}

/// The package names in the committed index whose category is `category`.
fn packages_in(category: &str) -> BTreeSet<String> {
    let index: Value =
        serde_json::from_str(&std::fs::read_to_string(root().join("index/index.json")).unwrap())
            .unwrap();
    index["packages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["category"] == category)
        .map(|p| p["name"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn search_open_a_package_and_filter_by_category_in_chromium() {
    if !browser_installed() {
        return;
    }
    let started = Instant::now();
    let server = TestServer::start();
    let http = http();
    let driver = Driver::start(&http);
    let browser = Browser::new(&http, &driver);
    let shots = screenshot_dir();
    let _ = std::fs::remove_file(shots.join("failure.png"));

    // The home page: every package as a card.
    browser.goto(&server.url);
    assert!(
        browser.title().contains("Cocktail catalog"),
        "title: {:?}",
        browser.title()
    );
    let all = browser.wait_read_all(".cards .card a", |e| e.attribute("href"));
    assert!(all.len() > 10, "the home page lists every package: {all:?}");
    browser.screenshot(&shots.join("catalog.png"));

    // Search with the real form: type, click the button, the browser submits a GET.
    let input = browser.wait_element("form.search input[name=q]");
    input.clear();
    input.send_keys("redis");
    browser
        .wait_element("form.search button[type=submit]")
        .click();
    let url = browser.wait_url("q=redis");
    assert!(url.starts_with(&server.url), "{url}");
    let hits = browser.wait_read_all(".cards .card a", |e| e.attribute("href"));
    assert!(
        hits.contains(&"/packages/redis".to_string()),
        "search hits: {hits:?}"
    );
    assert!(
        !hits.contains(&"/packages/grafana".to_string()),
        "search hits: {hits:?}"
    );
    assert!(
        hits.len() < all.len(),
        "the search narrows the list: {hits:?}"
    );
    assert_eq!(
        browser
            .wait_element("form.search input[name=q]")
            .attribute("value")
            .unwrap(),
        "redis",
        "the search box keeps the query"
    );
    browser.screenshot(&shots.join("search.png"));

    // Open the package: its page shows the install command.
    browser
        .wait_element(".cards .card a[href=\"/packages/redis\"]")
        .click();
    browser.wait_url("/packages/redis");
    let install = browser.wait_element("#install-command").text().unwrap();
    assert!(
        install.starts_with("cocktail-pkg install redis "),
        "install command: {install:?}"
    );
    // The command that adds this catalog names the address the browser used.
    let repo_add = browser.wait_element("#repo-add-command").text().unwrap();
    assert!(
        repo_add.starts_with("cocktail-pkg repo add ") && repo_add.ends_with(&server.url),
        "repo add command: {repo_add:?} (server at {})",
        server.url
    );
    assert!(
        browser.title().starts_with("redis"),
        "title: {:?}",
        browser.title()
    );
    let heading = browser.wait_element("article.package h1").text().unwrap();
    assert!(heading.starts_with("redis"), "heading: {heading:?}");
    browser.screenshot(&shots.join("package-page.png"));

    // A category link on the home page shows only that category's packages.
    browser.goto(&server.url);
    browser
        .wait_element("nav.categories a[href$=\"category=monitoring\"]")
        .click();
    browser.wait_url("category=monitoring");
    let names: BTreeSet<String> = browser
        .wait_read_all(".cards .card h2", |e| e.text())
        .into_iter()
        .collect();
    assert_eq!(names, packages_in("monitoring"), "the monitoring category");
    let metas = browser.wait_read_all(".cards .card .meta", |e| e.text());
    assert!(
        metas.iter().all(|m| m.ends_with("monitoring")),
        "every card is in monitoring: {metas:?}"
    );
    let active = browser.wait_read_all("nav.categories a.active", |e| e.text());
    assert_eq!(active, ["monitoring"], "the active category");

    eprintln!("browser test took {:?}", started.elapsed());
}

impl Browser {
    /// Runs `script` (a function body; `return` gives the answer) in the page.
    fn script(&self, script: &str) -> Value {
        self.post("/execute/sync", json!({"script": script, "args": []}))
    }

    /// Resizes the window so the page's viewport is `width` CSS pixels wide.
    fn set_viewport_width(&self, width: u64) {
        let mut outer = width;
        for _ in 0..3 {
            self.post("/window/rect", json!({"width": outer, "height": 900}));
            let inner = self.script("return window.innerWidth;").as_u64().unwrap();
            if inner == width {
                return;
            }
            outer = outer + width - inner.min(outer + width - 1);
        }
        panic!("cannot make the viewport {width}px wide");
    }

    /// Loads `url` and waits for its `main` element.
    fn open(&self, url: &str) {
        self.goto(url);
        self.wait_element("main");
    }
}

/// Problems of the page at hand that people see as slips: anything wider than the viewport,
/// text cut off or overflowing its card, content that cannot be scrolled to, comment markers
/// shown as text. Each problem as a line, for the assertion message.
const LAYOUT_PROBLEMS: &str = r#"
const problems = [];
const vw = document.documentElement.clientWidth;
const describe = (e) => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') +
  (e.className && typeof e.className === 'string' ? '.' + e.className.trim().split(/\s+/).join('.') : '');
if (document.documentElement.scrollWidth > vw + 1) {
  problems.push('the page scrolls sideways: ' + document.documentElement.scrollWidth + 'px > ' + vw + 'px');
}
// Every element outside a scrolling box stays within the viewport.
const scrolls = (e) => { const o = getComputedStyle(e).overflowX; return o === 'auto' || o === 'scroll'; };
const insideScroller = (e) => { for (let p = e.parentElement; p; p = p.parentElement) { if (scrolls(p)) return true; } return false; };
for (const e of document.body.querySelectorAll('*')) {
  const r = e.getBoundingClientRect();
  if (r.width === 0 || insideScroller(e)) continue;
  if (r.left < -1 || r.right > vw + 1) problems.push(describe(e) + ' runs off screen: ' + Math.round(r.left) + '..' + Math.round(r.right) + ' of ' + vw + 'px');
}
// Nothing overflows a box that hides it: cut text, a table wider than its card.
for (const e of document.body.querySelectorAll('*')) {
  const cs = getComputedStyle(e);
  if (cs.overflowX === 'hidden' || cs.overflowX === 'clip') {
    if (e.scrollWidth > e.clientWidth + 1) problems.push(describe(e) + ' cuts its content: ' + e.scrollWidth + 'px in ' + e.clientWidth + 'px');
  }
  if (cs.textOverflow === 'ellipsis' && e.scrollWidth > e.clientWidth + 1) problems.push(describe(e) + ' truncates: ' + JSON.stringify(e.textContent));
}
for (const card of document.querySelectorAll('.readme, .card a, .not-found')) {
  const c = card.getBoundingClientRect();
  for (const e of card.querySelectorAll('*')) {
    const r = e.getBoundingClientRect();
    if (r.width === 0 || insideScroller(e) && !scrolls(e)) continue;
    if (r.right > c.right + 1) problems.push(describe(e) + ' overflows its card ' + describe(card) + ': ' + Math.round(r.right) + ' > ' + Math.round(c.right));
  }
}
// Long lines of code scroll (or wrap): never cut.
for (const pre of document.querySelectorAll('pre')) {
  const cs = getComputedStyle(pre);
  const wraps = cs.whiteSpace === 'pre-wrap' || cs.whiteSpace === 'break-spaces';
  if (pre.scrollWidth > pre.clientWidth + 1 && !wraps && !scrolls(pre)) problems.push(describe(pre) + ' cuts a long line');
}
// Markers for tools are never shown.
const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
for (let n = walker.nextNode(); n; n = walker.nextNode()) {
  if (n.textContent.includes('values:start') || n.textContent.includes('values:end')) problems.push('a text node shows ' + JSON.stringify(n.textContent.trim()));
}
return problems;
"#;

fn layout_problems(browser: &Browser) -> Vec<String> {
    browser
        .script(LAYOUT_PROBLEMS)
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap().to_string())
        .collect()
}

/// Whether the page at hand uses the catalog's stylesheet (its background colour is set).
fn styled(browser: &Browser) -> bool {
    let v = browser.script(
        "return [document.querySelectorAll('link[rel=stylesheet][href=\"/static/style.css\"]').length, getComputedStyle(document.body).backgroundColor];",
    );
    v[0] == 1 && v[1] == "rgb(247, 248, 251)"
}

#[test]
fn the_page_has_no_slips_at_1280_and_390_px() {
    if !browser_installed() {
        return;
    }
    let server = TestServer::start();
    let http = http();
    let driver = Driver::start(&http);
    let browser = Browser::new(&http, &driver);
    let shots = screenshot_dir();

    // The favicon browsers ask for.
    let r = http
        .get(format!("{}favicon.ico", server.url))
        .send()
        .unwrap();
    assert_eq!(r.status(), 200, "/favicon.ico");
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("image/"),
        "{:?}",
        r.headers()["content-type"]
    );

    for width in [1280u64, 390] {
        browser.set_viewport_width(width);
        let shot = |name: &str| browser.screenshot(&shots.join(format!("{width}-{name}.png")));
        let pages = [
            ("home", String::new()),
            ("search", "?q=sql".to_string()),
            ("redis", "packages/redis".to_string()),
            ("pgbench", "packages/pgbench".to_string()),
            ("node-exporter", "packages/node-exporter".to_string()),
        ];
        for (name, path) in &pages {
            browser.open(&format!("{}{path}", server.url));
            shot(name);
            // The parts that slipped: the values table and long code lines.
            for (part, css) in [("table", ".readme .table-scroll"), ("code", ".readme pre")] {
                let found = browser.script(&format!(
                    "const e = document.querySelector('{css}'); if (e) {{ e.scrollIntoView(); }} return !!e;"
                ));
                if found == true {
                    shot(&format!("{name}-{part}"));
                }
            }
            let problems = layout_problems(&browser);
            assert!(problems.is_empty(), "{width}px, {name}: {problems:#?}");
        }

        // The search button and the install commands are on screen and whole.
        browser.open(&format!("{}packages/redis", server.url));
        let visible = browser.script(
            "const vw = document.documentElement.clientWidth; return ['form.search button', '#install-command', '#repo-add-command'].map(s => { const e = document.querySelector(s); const r = e.getBoundingClientRect(); const box = e.closest('pre') || e; return r.left >= 0 && r.right <= vw && box.scrollWidth <= box.clientWidth + 1; });",
        );
        assert_eq!(visible, json!([true, true, true]), "{width}px");

        // A search without hits says so once.
        browser.open(&format!("{}?q=no-such-thing-anywhere", server.url));
        shot("no-results");
        let said = browser.script(
            "return [document.querySelectorAll('#no-results').length, document.querySelectorAll('#result-count').length, (document.querySelector('main').innerText.match(/match/g) || []).length];",
        );
        assert_eq!(
            said,
            json!([1, 0, 1]),
            "{width}px: one \"no results\" message"
        );
        assert!(
            layout_problems(&browser).is_empty(),
            "{width}px, no results"
        );

        // The 404 pages use the stylesheet.
        for path in ["packages/no-such-package", "no/such/page"] {
            browser.open(&format!("{}{path}", server.url));
            assert!(styled(&browser), "{width}px: /{path} is styled");
            let heading = browser.wait_element("main h1").text().unwrap();
            assert_eq!(heading, "Not found", "/{path}");
            let problems = layout_problems(&browser);
            assert!(problems.is_empty(), "{width}px, /{path}: {problems:#?}");
        }
        shot("not-found");
    }
}
