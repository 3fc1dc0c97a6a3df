"""Writers: a row's delivered values, and the sinks that stream them to CSV, JSON lines, XLSX.

A sink opened with ``path=None`` writes nothing: :func:`ingestion.generator.planted_defects` runs
the same code as the writing to compute the manifest.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import zipfile
from datetime import date, datetime
from pathlib import Path
from typing import Any

from ingestion.generator.rows import Row
from ingestion.generator.specs import Spec
from ingestion.generator.vocabularies import ISO_DATE_POSTS

RAW = "@@RAW@@"  # placeholder for a value written as is (no quoting), e.g. an unquoted delimiter
_FR_DATES: dict[date, str] = {}  # strftime is slow; a million rows share a few thousand dates


def cells_of(spec: Spec, row: Row) -> list[Any]:
    """The delivered values of a row, in column order, formatted the way the silo exports them."""
    out: list[Any] = []
    for column in spec.columns:
        value = row[column]
        kind = type(value)
        if kind is str:
            out.append(value)
        elif kind is date:
            if spec.fmt == "json" or (
                spec.iso_dates and row.get("consular_post") in ISO_DATE_POSTS
            ):
                out.append(value.isoformat())
            else:
                text = _FR_DATES.get(value)
                if text is None:
                    text = _FR_DATES[value] = value.strftime("%d/%m/%Y")
                out.append(text)
        elif kind is float:
            out.append(f"{value:.2f}".replace(".", ","))
        elif kind is int:
            out.append(value if spec.fmt == "xlsx" else str(value))
        else:
            out.append(None if spec.fmt == "xlsx" else "")
    return out


def jsonable(value: Any) -> Any:
    """``value`` as the manifest writes it (a date as its ISO text)."""
    return value.isoformat() if isinstance(value, date) else value


class TextSink:
    """CSV or JSON lines, streamed to ``path``; with ``path=None`` it only renders (manifest)."""

    def __init__(self, spec: Spec, headers: list[str], path: Path | None) -> None:
        self.spec = spec
        self.headers = headers
        self.file = path.open("w", encoding=spec.encoding, newline="") if path else None
        self.buffer = io.StringIO()
        self.renderer = csv.writer(self.buffer, delimiter=spec.delimiter, lineterminator="")
        if self.file is not None and spec.fmt == "csv":
            self.writer = csv.writer(
                self.file, delimiter=spec.delimiter, lineterminator=spec.newline
            )
            self.writer.writerow(headers)

    def render(self, cells: list[Any]) -> str:
        """The line ``cells`` make, without its line ending (CSV quoting, or a JSON object)."""
        if self.spec.fmt == "json":
            return json.dumps(dict(zip(self.headers, cells, strict=True)), ensure_ascii=False)
        self.buffer.seek(0)
        self.buffer.truncate()
        self.renderer.writerow(cells)
        return self.buffer.getvalue()

    def row(self, cells: list[Any]) -> None:
        """Write one record."""
        if self.file is None:
            return
        if self.spec.fmt == "csv":
            self.writer.writerow(cells)
        else:
            self.file.write(self.render(cells) + self.spec.newline)

    def raw(self, text: str) -> None:
        """Write ``text`` as one line, as is (a broken line)."""
        if self.file is not None:
            self.file.write(text + self.spec.newline)

    def close(self) -> None:
        """Close the file."""
        if self.file is not None:
            self.file.close()


class _StampedZip(zipfile.ZipFile):
    """A deflated zip whose entries all carry one date: no save time ends up in the file.

    openpyxl's writer adds its parts with :meth:`writestr` and the streamed sheet with
    :meth:`write`; both are redirected here to entries dated ``moment``.
    """

    def __init__(self, path: Path, moment: datetime) -> None:
        super().__init__(path, "w", zipfile.ZIP_DEFLATED, allowZip64=True)
        self.moment = (moment.year, moment.month, moment.day, moment.hour, moment.minute, 0)

    def _entry(self, name: str) -> zipfile.ZipInfo:
        info = zipfile.ZipInfo(name, date_time=self.moment)
        info.compress_type = zipfile.ZIP_DEFLATED
        return info

    def writestr(
        self,
        zinfo_or_arcname: str | zipfile.ZipInfo,
        data: Any,
        compress_type: int | None = None,
        compresslevel: int | None = None,
    ) -> None:
        if isinstance(zinfo_or_arcname, str):
            zinfo_or_arcname = self._entry(zinfo_or_arcname)
        super().writestr(zinfo_or_arcname, data, compress_type, compresslevel)

    def write(
        self,
        filename: Any,
        arcname: Any = None,
        compress_type: int | None = None,
        compresslevel: int | None = None,
    ) -> None:
        info = self._entry(str(arcname if arcname is not None else filename))
        info.file_size = Path(filename).stat().st_size  # zip64 when the sheet needs it
        with open(filename, "rb") as source, self.open(info, "w") as target:
            shutil.copyfileobj(source, target, 1 << 20)


class XlsxSink:
    """An Excel workbook streamed with openpyxl (write-only mode): a bold title row merged over
    the columns, the bold header row, then the data rows.

    Strings are text cells (even one starting with ``=``), integers numbers. The sheet declares
    its dimension (``A1:<last column><rows + 2>``), so a reader pads the title row to the width
    of the table. The workbook's created and modified dates and every zip entry are set to the
    delivery date at 08:00: same seed, same bytes.
    """

    def __init__(
        self, spec: Spec, headers: list[str], path: Path | None, stamp: date, rows: int
    ) -> None:
        self.path = path
        if path is None:
            return
        from openpyxl import Workbook
        from openpyxl.cell import WriteOnlyCell
        from openpyxl.styles import Font
        from openpyxl.utils import get_column_letter

        self.moment = datetime(stamp.year, stamp.month, stamp.day, 8, 0, 0)
        self.workbook = Workbook(write_only=True)
        self.workbook.properties.creator = "DGM"
        self.workbook.properties.created = self.workbook.properties.modified = self.moment
        self.sheet = self.workbook.create_sheet(spec.sheet)
        last = get_column_letter(len(headers))
        # A write-only sheet has no dimension of its own; openpyxl's sheet writer asks for one.
        self.sheet.calculate_dimension = lambda: f"A1:{last}{rows + 2}"
        self.sheet.merged_cells.add(f"A1:{last}1")
        self.text_cell = WriteOnlyCell
        bold = Font(bold=True)

        def styled(value: str) -> Any:
            cell = WriteOnlyCell(self.sheet, value=value)
            cell.font = bold
            return cell

        self.sheet.append([styled(spec.title)] if spec.title else [])
        self.sheet.append([styled(header) for header in headers])

    def render(self, cells: list[Any]) -> str:
        """Not available: an xlsx row has no text line."""
        raise NotImplementedError("an xlsx row has no text line")

    def raw(self, text: str) -> None:
        """Not available: an xlsx row has no text line."""
        raise NotImplementedError("an xlsx row has no text line")

    def row(self, cells: list[Any]) -> None:
        """Write one record (None leaves the cell empty)."""
        if self.path is None:
            return
        if any(type(value) is str and value.startswith("=") for value in cells):
            cells = [self._text(value) for value in cells]
        self.sheet.append(cells)

    def _text(self, value: Any) -> Any:
        """``value``, a string starting with ``=`` kept as text rather than a formula."""
        if type(value) is not str or not value.startswith("="):
            return value
        cell = self.text_cell(self.sheet, value=value)
        cell.data_type = "s"
        return cell

    def close(self) -> None:
        """Write the workbook out."""
        if self.path is None:
            return
        from openpyxl.writer.excel import ExcelWriter

        # Not Workbook.save: it would stamp the save time as the modified date.
        ExcelWriter(self.workbook, _StampedZip(self.path, self.moment)).save()
