"""Regenerates the README's screenshots (docs/img/webapp_*.png) from the web app as a user
starts it: `groove-vae serve` in its own process (the bundled models, Drumify on), driven
by Debian's chromium through selenium.

    python tests/screenshots.py                    # writes docs/img/webapp_{grid,blender,continue}.png
    python tests/screenshots.py --output_dir=/tmp/shots

Not a test (pytest does not collect it): tests/test_webapp_browser.py checks the page.
"""

import argparse
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

import numpy as np
from PIL import Image
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(port: int) -> subprocess.Popen:
    """`groove-vae serve --port=N`, waited for until it answers (loading takes a while)."""
    command = shutil.which("groove-vae") or os.path.join(os.path.dirname(sys.executable), "groove-vae")
    server = subprocess.Popen([command, "serve", f"--port={port}"])
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit(f"groove-vae serve exited with {server.returncode}")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2)
            return server
        except OSError:
            time.sleep(1)
    server.terminate()
    sys.exit("groove-vae serve did not answer in 300 s")


def browser(url: str):
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or shutil.which("chromium-browser")
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1360,1200",
                     "--mute-audio", "--force-device-scale-factor=1"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(executable_path=shutil.which("chromedriver")), options=options)
    driver.get(url)
    wait_for(driver, "document.body.dataset.ready === 'true' && window.grooveApp.version > 0")
    return driver


def wait_for(driver, condition, timeout=60):
    WebDriverWait(driver, timeout, poll_frequency=0.05).until(lambda d: d.execute_script(f"return {condition}"))


def version(driver) -> int:
    return driver.execute_script("return window.grooveApp.version")


def click_and_wait(driver, element_id):
    before = version(driver)
    driver.find_element(By.ID, element_id).click()
    wait_for(driver, f"window.grooveApp.version > {before} && window.grooveApp.requests === 0")


def save(driver, directory, name):
    """The page's screenshot, cut below its content (the window is taller than the page)."""
    path = os.path.join(directory, name)
    driver.save_screenshot(path)
    height = int(driver.execute_script(
        "return Math.max(...Array.from(document.body.children, e => e.getBoundingClientRect().bottom))")) + 24
    image = Image.open(path)
    image.crop((0, 0, image.width, min(image.height, height))).save(path)
    pixels = np.asarray(Image.open(path).convert("L"), np.float32)
    if pixels.std() <= 20:
        sys.exit(f"{path} looks blank")
    print("wrote", path)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output_dir", default=os.path.join(ROOT, "docs", "img"))
    parser.add_argument("--seed", type=int, default=0, help="The sampled beat's seed.")
    args = parser.parse_args()
    os.makedirs(args.output_dir, exist_ok=True)
    port = free_port()
    server = start_server(port)
    driver = None
    try:
        driver = browser(f"http://127.0.0.1:{port}/")
        driver.execute_script(f"document.getElementById('seed').value = '{args.seed}'")
        click_and_wait(driver, "resample")
        save(driver, args.output_dir, "webapp_grid.png")

        driver.find_element(By.ID, "tab-blend").click()
        wait_for(driver, "window.grooveApp.corners.every(Boolean) && window.grooveApp.requests === 0")
        pad = driver.find_element(By.ID, "pad")
        before = version(driver)
        ActionChains(driver).move_to_element_with_offset(pad, 0, 0).click_and_hold() \
            .move_by_offset(30, -35).release().perform()
        wait_for(driver, f"window.grooveApp.version > {before} && window.grooveApp.requests === 0")
        save(driver, args.output_dir, "webapp_blender.png")

        driver.find_element(By.ID, "tab-sample").click()
        driver.execute_script(f"document.getElementById('seed').value = '{args.seed}'")
        click_and_wait(driver, "resample")
        driver.find_element(By.ID, "tab-continue").click()
        driver.execute_script("document.getElementById('continue-bars').value = '16'")
        click_and_wait(driver, "continue")
        save(driver, args.output_dir, "webapp_continue.png")
    finally:
        if driver is not None:
            driver.quit()
        server.terminate()
        server.wait(30)


if __name__ == "__main__":
    main()
