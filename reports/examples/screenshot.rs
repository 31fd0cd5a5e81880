//! `cargo run --release -p reports --example screenshot -- PAGE.html OUT.png WIDTH HEIGHT`:
//! the top of a report or campaign page in headless Chromium, as the README's
//! pictures are made (`.ci/screenshots` makes all of them).
fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [page, png, width, height] = &args[..] else {
        eprintln!("usage: screenshot PAGE.html OUT.png WIDTH HEIGHT");
        std::process::exit(2);
    };
    let (Ok(width), Ok(height)) = (width.parse(), height.parse()) else {
        eprintln!("screenshot: WIDTH and HEIGHT are pixels, got {width} and {height}");
        std::process::exit(2);
    };
    let result = reports::browser::chromium().and_then(|chromium| {
        reports::browser::screenshot(&chromium, page.as_ref(), png.as_ref(), width, height)
    });
    if let Err(e) = result {
        eprintln!("screenshot: {e}");
        std::process::exit(1);
    }
}
