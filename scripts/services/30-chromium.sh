# Headless Chromium and its WebDriver for the console's end-to-end tests (Debian packages only:
# a tool's own browser download cannot work here).
if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
  apt_install chromium chromium-driver
fi
command -v chromium >/dev/null 2>&1 || fatal "chromium is not installed"
command -v chromedriver >/dev/null 2>&1 || fatal "chromedriver (chromium-driver) is not installed"
chromedriver --version >/dev/null 2>&1 || fatal "chromedriver does not run"
