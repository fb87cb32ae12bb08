"""The three forms of one report — web page, PDF, XLSX — drawn from its frozen figures JSON.

`tables.report_tables(figures)` is the one list of tables every form shows (the page's tables and
the workbook's sheets come from it), `page.report_page(figures)` the rest of the page's model
(headline figures, chart data, narrative with footnotes); `pdf.report_pdf` and `xlsx.report_xlsx`
turn a report into bytes. Nothing here queries petitions: a published report renders the same
forever.
"""
