"""Printable reports and spreadsheets (ADR 0022): one report model, several renderers.

A report's data is built once, by its service, as a :class:`jutaku.reports.document.Document` (title,
lead paragraphs, sections of tables, paragraphs, charts and sign-off boxes) and then rendered: as HTML
(:mod:`jutaku.reports.html`), as a PDF with the Japanese font embedded (:mod:`jutaku.reports.pdf`), or —
for the lists staff sort and filter — as an Excel workbook (:mod:`jutaku.reports.xlsx`). This package is
pure (no Django, no clock, no database): the services build the documents and
:mod:`jutaku.exchange.documents` writes them as outputs (encryption by sensitivity, 0600, media ledger,
expiry).
"""
