"""The web app in a real browser: Debian's chromium driven by selenium, against the real server.

Uses the bundled model and no tap model (so Drumify must say why it is off); its
screenshots go to GROOVE_VAE_SCREENSHOTS or a temporary folder. The README's images come
from `python tests/screenshots.py`, the app as `groove-vae serve` starts it.
"""

import io
import os
import shutil
import time

import mido
import numpy as np
import pytest
from helpers import make_sequence, serve_in_thread, to_midi_bytes
from note_seq import midi_io

webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (pip install -e '.[test]')")
from PIL import Image  # noqa: E402
from selenium.common.exceptions import TimeoutException  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.action_chains import ActionChains  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

from groove_vae import converter  # noqa: E402
from groove_vae.drums import DEFAULT_DRUM_PITCHES  # noqa: E402
from groove_vae.groove import hits as hits_of  # noqa: E402
from groove_vae.webapp import app as webapp  # noqa: E402

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(
    not (CHROMIUM and CHROMEDRIVER),
    reason="chromium and chromedriver are not installed (Debian: apt-get install chromium chromium-driver; .ci/run does)",
)


@pytest.fixture(scope="module")
def url(bundled_vae):
    from groove_vae import api

    infill_vae = api.load("infill")
    with serve_in_thread(webapp.create_app(bundled_vae, None, model_name="bundled groovae_4bar",
                                           infill_vae=infill_vae)) as base:
        yield base


@pytest.fixture(scope="module")
def downloads(tmp_path_factory):
    return tmp_path_factory.mktemp("downloads")


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory):
    return os.environ.get("GROOVE_VAE_SCREENSHOTS") or str(tmp_path_factory.mktemp("screenshots"))


@pytest.fixture(scope="module")
def browser(url, downloads):
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1360,1200",
                     "--mute-audio", "--autoplay-policy=no-user-gesture-required", "--force-device-scale-factor=1"):
        options.add_argument(argument)
    options.add_experimental_option("prefs", {"download.default_directory": str(downloads),
                                              "download.prompt_for_download": False})
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.get(url)
    wait_for(driver, "document.body.dataset.ready === 'true' && window.grooveApp.version > 0")
    yield driver
    driver.quit()


def wait_for(driver, condition, timeout=30):
    """Waits until a JavaScript expression is true; fails with the page's message if not."""
    try:
        WebDriverWait(driver, timeout, poll_frequency=0.05).until(lambda d: d.execute_script(f"return {condition}"))
    except TimeoutException:
        message = driver.find_element(By.ID, "message").text
        page = driver.execute_script("const a = window.grooveApp; return a && "
                                     "{name: a.name, version: a.version, point: a.point, requests: a.requests}")
        pytest.fail(f"Timed out waiting for {condition!r}; the page says {message!r}; its state: {page}")


def beat(driver):
    return driver.execute_script("return window.grooveApp.beat")


def version(driver):
    return driver.execute_script("return window.grooveApp.version")


def upload(driver, input_id, path):
    before = version(driver)
    driver.execute_script("document.getElementById('message').textContent = ''")
    driver.find_element(By.ID, input_id).send_keys(str(path))
    wait_for(driver, f"window.grooveApp.version > {before} || document.getElementById('message').className === 'error'")


def save_screenshot(driver, directory, name):
    """Writes a PNG of the page and checks it shows something (not one flat colour)."""
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, name)
    driver.save_screenshot(path)
    pixels = np.asarray(Image.open(path).convert("L"), np.float32)
    assert pixels.shape[0] > 500 and pixels.std() > 20, f"{path} looks blank"
    return path


def grid_pixels(driver):
    png = driver.find_element(By.ID, "grid").screenshot_as_png
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), np.float32)


def test_page_loads_samples_draws_and_plays(browser, screenshots):
    first = beat(browser)
    assert first["notes"] and first["qpm"] == 120
    assert browser.find_element(By.ID, "grid").get_attribute("data-notes") == str(len(first["notes"]))
    assert "17 styles" in browser.find_element(By.ID, "model-info").text
    before = version(browser)
    browser.find_element(By.ID, "sample").click()
    wait_for(browser, f"window.grooveApp.version > {before}")
    second = beat(browser)
    assert second["notes"] != first["notes"]
    assert f"seed {browser.find_element(By.ID, 'seed').get_attribute('value')}" in browser.find_element(By.ID, "beat-info").text

    # The grid shows the hits: coloured pixels in proportion to them (a random seed can
    # draw a sparse beat, so the bound counts this beat's notes), never most of the grid.
    pixels = grid_pixels(browser)
    coloured = (pixels.max(axis=2) - pixels.min(axis=2)) > 60
    assert coloured.sum() > 50 * len(second["notes"]) and coloured.mean() < 0.5
    save_screenshot(browser, screenshots, "webapp_grid.png")

    browser.find_element(By.ID, "play").click()
    wait_for(browser, "document.getElementById('play').dataset.playing === 'true'")
    wait_for(browser, "Number(document.getElementById('playhead').dataset.position) > 2", timeout=10)
    assert "Sound:" in browser.find_element(By.ID, "sound-info").text
    browser.find_element(By.ID, "play").click()
    wait_for(browser, "document.getElementById('play').dataset.playing === 'false'")
    errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert not errors, errors


def test_moving_the_blend_point_decodes_a_new_beat(browser, screenshots):
    browser.find_element(By.ID, "tab-blend").click()
    wait_for(browser, "window.grooveApp.corners.every(Boolean) && window.grooveApp.name.startsWith('blend (0.50')")
    centre = beat(browser)
    corners = browser.execute_script("return window.grooveApp.corners.map(c => c.label)")
    assert [label.split(" · ")[0] for label in corners] == ["rock", "funk", "jazz", "hiphop"]
    pad = browser.find_element(By.ID, "pad")
    before = version(browser)
    ActionChains(browser).move_to_element_with_offset(pad, 0, 0).click_and_hold() \
        .move_by_offset(-30, -20).move_by_offset(-30, -25).release().perform()
    wait_for(browser, f"window.grooveApp.version > {before} && window.grooveApp.requests === 0")
    wait_for(browser, "window.grooveApp.point.x < 0.4 && window.grooveApp.point.y < 0.4")
    # The beat shown is the one decoded at the point where the drag ended.
    wait_for(browser, "window.grooveApp.name === "
                      "`blend (${grooveApp.point.x.toFixed(2)}, ${grooveApp.point.y.toFixed(2)})`")
    point = browser.execute_script("return window.grooveApp.point")
    near_rock = beat(browser)
    assert near_rock["notes"] != centre["notes"]
    pad.send_keys("\ue014")  # Arrow right: the point moves and the beat follows.
    wait_for(browser, f"window.grooveApp.point.x > {point['x'] + 0.04} && window.grooveApp.requests === 0")
    save_screenshot(browser, screenshots, "webapp_blender.png")


def test_a_steer_slider_moves_the_beat_on_the_grid(browser):
    browser.find_element(By.ID, "tab-sample").click()
    browser.execute_script("for (const [id, v] of [['style', ''], ['strength', '1'], ['temperature', '0.5'], "
                           "['seed', '3'], ['sample-bars', '4']]) document.getElementById(id).value = v;")
    browser.find_element(By.ID, "resample").click()  # Seed 3 at 0.5: a beat with room to get busier.
    wait_for(browser, "window.grooveApp.requests === 0 && window.grooveApp.name === 'sample · seed 3'")
    source = beat(browser)
    browser.find_element(By.ID, "tab-steer").click()
    slider = browser.find_element(By.ID, "steer-density")
    before = version(browser)
    browser.execute_script("arguments[0].value = '2'; arguments[0].dispatchEvent(new Event('input'))", slider)
    wait_for(browser, f"window.grooveApp.version > {before} && window.grooveApp.requests === 0")
    wait_for(browser, "window.grooveApp.name.endsWith('density +2')")
    denser = beat(browser)
    assert len(denser["notes"]) > len(source["notes"])
    before = version(browser)
    browser.find_element(By.ID, "steer-reset").click()  # Back to the beat as it was.
    wait_for(browser, f"window.grooveApp.version > {before} && window.grooveApp.requests === 0")
    wait_for(browser, "!window.grooveApp.name.includes('density')")
    assert beat(browser)["notes"] == source["notes"]


def test_humanize_an_uploaded_quantized_beat(browser, tmp_path):
    notes = []
    for step in range(64):
        if step % 8 == 0:
            notes.append((36, 100, step * 0.125))
        if step % 8 == 4:
            notes.append((38, 100, step * 0.125))
        if step % 2 == 0:
            notes.append((42, 100, step * 0.125))
    path = tmp_path / "quantized.mid"
    path.write_bytes(to_midi_bytes(make_sequence(notes)))
    browser.find_element(By.ID, "tab-humanize").click()
    upload(browser, "humanize-file", path)
    uploaded = beat(browser)
    assert len(uploaded["notes"]) == len(notes) and "quantized.mid" in browser.find_element(By.ID, "beat-info").text
    before = version(browser)
    browser.find_element(By.ID, "humanize").click()
    wait_for(browser, f"window.grooveApp.version > {before}")
    played = beat(browser)
    assert {(n["step"], n["drum"]) for n in played["notes"]} == {(n["step"], n["drum"]) for n in uploaded["notes"]}
    velocities = [n["velocity"] for n in played["notes"]]
    assert np.std(velocities) > 0.03 and any(abs(n["offset"]) > 0.02 for n in played["notes"])
    browser.find_element(By.ID, "undo").click()
    wait_for(browser, "window.grooveApp.beat.notes.every(n => n.offset === 0)")


def test_download_midi_is_valid_drum_midi(browser, downloads):
    shown = beat(browser)
    browser.find_element(By.ID, "download-midi").click()
    deadline = time.monotonic() + 20
    while not list(downloads.glob("*.mid")) and time.monotonic() < deadline:
        time.sleep(0.1)
    files = list(downloads.glob("*.mid"))
    assert len(files) == 1, f"no MIDI file was downloaded to {downloads}"
    midi = mido.MidiFile(str(files[0]))
    channels = {m.channel for track in midi.tracks for m in track if m.type == "note_on"}
    assert channels == {9}  # General MIDI drums: channel 10.
    ns = midi_io.midi_file_to_note_sequence(str(files[0]))
    assert ns.notes and all(n.is_drum for n in ns.notes)
    assert {n.pitch for n in ns.notes} <= {p[0] for p in DEFAULT_DRUM_PITCHES}
    assert [(t.numerator, t.denominator) for t in ns.time_signatures] == [(4, 4)]
    groove = converter.note_sequence_to_groove(ns)
    assert {tuple(x) for x in np.argwhere(hits_of(groove) > 0)} == {(n["step"], n["drum"]) for n in shown["notes"]}


@pytest.mark.parametrize("name, data, status, message", [
    ("notes.txt", b"just some text", "415", "notes.txt: not a valid MIDI file"),
    ("waltz.mid", to_midi_bytes(make_sequence([(36, 100, 0.0), (38, 100, 0.5)], numerator=3)), "422", "meter 3/4 is not 4/4"),
    ("piano.mid", to_midi_bytes(make_sequence([(60, 100, 0.0)], is_drum=False)), "422", "no drum notes"),
    ("huge.mid", b"MThd" + bytes(1_100_000), "413", "over the 1.0 MB limit"),
])
def test_a_bad_upload_gets_a_clear_message_on_the_page(browser, tmp_path, name, data, status, message):
    path = tmp_path / name
    path.write_bytes(data)
    before = beat(browser)
    browser.find_element(By.ID, "tab-humanize").click()
    upload(browser, "humanize-file", path)
    box = browser.find_element(By.ID, "message")
    assert box.get_attribute("class") == "error" and box.get_attribute("data-status") == status
    assert message in box.text
    assert beat(browser) == before  # The beat on the grid is kept.


def test_drumify_records_keyboard_taps_then_says_why_it_is_off(browser):
    browser.find_element(By.ID, "tab-drumify").click()
    notice = browser.find_element(By.ID, "drumify-notice")
    assert notice.is_displayed() and "--tap_run_dir" in notice.text
    tempo = browser.find_element(By.ID, "qpm")
    tempo.clear()
    tempo.send_keys("300\t")  # A fast tempo keeps the test short: 1 bar of count-in, 4 to tap, 4 s.
    browser.find_element(By.ID, "record").click()
    wait_for(browser, "document.getElementById('record-status').textContent.startsWith('recording')", timeout=10)
    for _ in range(6):
        ActionChains(browser).send_keys("j").perform()
        time.sleep(0.25)
    wait_for(browser, "window.grooveApp.name === 'tapped rhythm'", timeout=15)
    taps = beat(browser)
    steps = sorted(n["step"] for n in taps["notes"])
    assert taps["qpm"] == 300 and 3 <= len(steps) <= 6 and {n["drum"] for n in taps["notes"]} == {0}
    assert all(3 <= b - a <= 15 for a, b in zip(steps, steps[1:]))  # 0.25 s apart is 5 steps at 300 qpm.
    browser.find_element(By.ID, "drumify").click()
    wait_for(browser, "document.getElementById('message').dataset.status === '503'")
    assert "Tap2Drum" in browser.find_element(By.ID, "message").text


def test_the_synthesized_kit_for_a_server_without_fluidsynth_is_nine_audible_drums(browser):
    peaks = browser.execute_async_script("""
        const done = arguments[arguments.length - 1];
        import('/static/player.js').then(({ synthesizeKit }) => {
            const kit = synthesizeKit(new OfflineAudioContext(1, 44100, 44100));
            done(kit.map((b) => [b.duration, Math.max(...b.getChannelData(0).map(Math.abs))]));
        }).catch((error) => done(String(error)));
    """)
    assert isinstance(peaks, list) and len(peaks) == 9, peaks
    for seconds, peak in peaks:
        assert 0.05 < seconds < 2 and 0.05 < peak <= 1.0


def test_continue_to_16_bars_scrolls_and_plays_on_then_infill_keeps_the_kick_and_snare(browser, screenshots):
    browser.get_log("browser")  # Drained: earlier tests' refused uploads log their 4xx.
    browser.find_element(By.ID, "tab-sample").click()
    # A fixed seed: a random one draws, one time in a few hundred, a snare roll with no
    # timekeeper, to which the model adds nothing (tested below).
    browser.execute_script("document.getElementById('seed').value = '0'")
    before = version(browser)
    browser.find_element(By.ID, "resample").click()
    wait_for(browser, f"window.grooveApp.version > {before}")
    four = beat(browser)
    browser.find_element(By.ID, "tab-continue").click()
    browser.execute_script("document.getElementById('continue-bars').value = '16'")
    before = version(browser)
    browser.find_element(By.ID, "continue").click()
    wait_for(browser, f"window.grooveApp.version > {before}")
    sixteen = beat(browser)
    assert sixteen["steps"] == 256 and max(n["step"] for n in sixteen["notes"]) >= 240
    cells = lambda b, top=256: {(n["step"], n["drum"]) for n in b["notes"] if n["step"] < top}  # noqa: E731
    assert cells(sixteen, 64) == cells(four)  # The given 4 bars, then the continuation.
    assert browser.execute_script("const s = document.getElementById('grid-scroll'); "
                                  "return s.scrollWidth > s.clientWidth + 500")  # 16 bars scroll.
    save_screenshot(browser, screenshots, "webapp_continue.png")

    # Played fast, the playhead runs past bar 4 and the grid scrolls after it.
    browser.execute_script("const q = document.getElementById('qpm'); q.value = '360'; "
                           "q.dispatchEvent(new Event('change'))")
    browser.find_element(By.ID, "play").click()
    wait_for(browser, "Number(document.getElementById('playhead').dataset.position) > 90", timeout=20)
    assert browser.execute_script("return document.getElementById('grid-scroll').scrollLeft") > 0
    browser.find_element(By.ID, "play").click()
    wait_for(browser, "document.getElementById('play').dataset.playing === 'false'")

    browser.find_element(By.ID, "tab-infill").click()
    checked = browser.execute_script(
        "return [...document.querySelectorAll('#infill-keep input:checked')].map(i => Number(i.value))")
    assert checked == [0, 1]
    before = version(browser)
    browser.find_element(By.ID, "infill").click()
    wait_for(browser, f"window.grooveApp.version > {before}")
    filled = beat(browser)
    kept = lambda b: sorted((n["step"], n["drum"], n["velocity"], n["offset"]) for n in b["notes"] if n["drum"] < 2)  # noqa: E731
    assert kept(filled) == kept(sixteen) and filled["steps"] == 256
    assert any(n["drum"] >= 2 for n in filled["notes"])
    assert "Infilled: kick, snare" in browser.find_element(By.ID, "message").text
    errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert not errors, errors

    # When the model adds nothing, the page says so rather than claiming it played the rest:
    # the server's answer is replaced by the kept drums alone.
    browser.execute_script(
        "const real = window.fetch; window.fetch = async (path, options) => {"
        "  if (path !== '/api/infill') return real(path, options);"
        "  const beat = JSON.parse(options.body).beat;"
        "  beat.notes = beat.notes.filter((n) => n.drum < 2);"
        "  window.fetch = real;"
        "  return new Response(JSON.stringify({ beat }), { headers: { 'Content-Type': 'application/json' } }); }")
    before = version(browser)
    browser.find_element(By.ID, "infill").click()
    wait_for(browser, f"window.grooveApp.version > {before}")
    assert "The model added nothing: kick, snare already sound like a whole groove" in \
        browser.find_element(By.ID, "message").text
