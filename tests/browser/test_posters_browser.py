"""A printed poster's QR code really reads back as the station's public address."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from PIL import Image
from staff_login import staff_client

pytestmark = pytest.mark.browser
zxingcpp = pytest.importorskip("zxingcpp", reason="zxing-cpp decodes the QR codes")


def test_the_qr_code_decodes_to_the_station_page(
    browser: Any, make_app: Callable[..., Flask]
) -> None:
    app = make_app(PUBLIC_BASE_URL="https://xiaoge.example.cn/sf")
    client = staff_client(app, "baiyang", "street_staff", "白杨街道")
    html = client.get("/staff/posters?street=白杨街道").get_data(as_text=True)
    posters = re.findall(r'data-station="([^"]+)".*?(<svg .*?</svg>)', html, flags=re.S)
    assert len(posters) >= 3
    page = browser.new_page()
    try:
        for station_id, svg in posters[:3]:
            page.set_content(f"<body style='margin:0;background:#fff'>{svg}</body>")
            page.locator("svg").evaluate(
                "s => { s.style.width = '300px'; s.style.height = '300px'; }"
            )
            png = page.locator("svg").screenshot()
            found = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
            assert [r.text for r in found] == [
                f"https://xiaoge.example.cn/sf/stations/{station_id}"
            ]
    finally:
        page.close()
