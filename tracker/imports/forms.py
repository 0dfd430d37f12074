"""The import page's forms: the new document and its attachment text, and the confirmation.

Both forms carry the same document fields and checks, so that confirming re-validates
everything the preview validated (the confirmation's fields are hidden, never trusted).
"""

from __future__ import annotations

import datetime as dt

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import Field, HiddenField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, ValidationError
from wtforms.widgets import DateInput

from tracker import clock
from tracker.catalogue.queries import document_by_number
from tracker.catalogue.seedfile import SeedDocument
from tracker.imports.textfile import (
    MAX_FILE_BYTES,
    MAX_TEXT_CHARS,
    TextFileError,
    check_text,
    decode_text,
)
from tracker.periods import Period

EARLIEST_ISSUE_DATE = dt.date(1949, 10, 1)


def _strip(value: object) -> object:
    return value.strip() if isinstance(value, str) else value


def _unix_newlines(value: object) -> object:
    """Browsers send CRLF from text areas; the stored text uses LF."""
    return value.replace("\r\n", "\n").replace("\r", "\n") if isinstance(value, str) else value


class DocumentFieldsForm(FlaskForm):
    """The new document's number, title, issuer and issue date."""

    number = StringField(
        "文号",
        filters=[_strip],
        validators=[DataRequired("请输入文号"), Length(max=64, message="文号不能超过 64 个字符")],
        description="如：民发〔2019〕86号",
    )
    title = StringField(
        "标题",
        filters=[_strip],
        validators=[
            DataRequired("请输入文件标题"),
            Length(max=255, message="标题不能超过 255 个字符"),
        ],
    )
    issuer = StringField(
        "发文机关",
        filters=[_strip],
        validators=[
            DataRequired("请输入发文机关"),
            Length(max=255, message="发文机关不能超过 255 个字符"),
        ],
        description="如：民政部等",
    )
    issued = StringField(
        "成文日期",
        filters=[_strip],
        widget=DateInput(),
        validators=[DataRequired("请输入成文日期")],
        description="格式：YYYY-MM-DD",
    )

    first_period = StringField(
        "首个报告期",
        filters=[_strip],
        description="如：2026Q4；留空为导入当季。此前的季度不为本文件生成填报任务",
    )

    def validate_first_period(self, field: Field) -> None:
        if not field.data:
            return
        try:
            period = Period.parse(field.data)
        except ValueError:
            raise ValidationError("首个报告期应为“四位年份 + Q + 季度(1-4)”，例如 2026Q4") from None
        current = Period.containing(clock.local_today())
        if period > current:
            raise ValidationError(f"首个报告期不能晚于本季度（{current.label}）")

    def validate_number(self, field: Field) -> None:
        if document_by_number(field.data) is not None:
            raise ValidationError(f"文号为「{field.data}」的文件已经导入，不能重复导入")

    def validate_issued(self, field: Field) -> None:
        try:
            issued = dt.datetime.strptime(field.data, "%Y-%m-%d").date()
        except ValueError:
            raise ValidationError("成文日期格式应为 YYYY-MM-DD，例如 2019-09-20") from None
        if issued < EARLIEST_ISSUE_DATE:
            raise ValidationError("成文日期不能早于 1949-10-01")

    def document(self) -> SeedDocument:
        """The validated fields as the catalogue's document description."""
        number, title, issuer = self.number.data, self.title.data, self.issuer.data
        assert number and title and issuer and self.issued.data  # all four are DataRequired
        issued = dt.datetime.strptime(self.issued.data, "%Y-%m-%d").date()
        return SeedDocument(number, title, issuer, issued, self.first_period.data or None)


class ImportForm(DocumentFieldsForm):
    """Upload a .txt file or paste the text, and describe the document."""

    file = FileField(
        "上传文本文件（.txt）",
        description=f"UTF-8 或 GB18030（GBK）编码，不超过 {MAX_FILE_BYTES // 1024} KB",
    )
    text = TextAreaField(
        "或粘贴附件正文",
        filters=[_unix_newlines],
        description=f"可粘贴整份文件或仅附件“任务分工”部分，不超过 {MAX_TEXT_CHARS} 个字符",
    )
    submit = SubmitField("预览")

    _file_text: str | None = None

    def validate_file(self, field: Field) -> None:
        upload = field.data
        if not upload or not upload.filename:
            return
        if not upload.filename.lower().endswith(".txt"):
            raise ValidationError("只能上传 .txt 纯文本文件（Word、PDF 请先另存为文本）")
        try:
            self._file_text = decode_text(upload.read(MAX_FILE_BYTES + 1), name="上传的文件")
        except TextFileError as exc:
            raise ValidationError(str(exc)) from None

    def validate_text(self, field: Field) -> None:
        uploaded = bool(self.file.data and self.file.data.filename)
        pasted = bool(field.data and field.data.strip())
        if uploaded and pasted:
            raise ValidationError("请在上传文件和粘贴正文中二选一")
        if not uploaded and not pasted:
            raise ValidationError("请上传 .txt 文件或粘贴附件正文")
        if pasted:
            try:
                check_text(field.data, name="附件正文")
            except TextFileError as exc:
                raise ValidationError(str(exc)) from None

    def keep_upload(self) -> None:
        """After a refusal, keep a file that was read in the text field: a browser cannot fill
        a file input again, so the text is what the user gets back."""
        if self._file_text is not None and not (self.text.data and self.text.data.strip()):
            self.text.data = self._file_text

    @property
    def attachment_text(self) -> str:
        """The text to parse: the decoded upload, or the pasted text (after validation)."""
        if self._file_text is not None:
            return self._file_text
        assert self.text.data is not None  # validate_text: no upload, so text was pasted
        return self.text.data


class ConfirmForm(DocumentFieldsForm):
    """The previewed document sent back for import; every field is checked again."""

    text = HiddenField(
        filters=[_unix_newlines], validators=[DataRequired("缺少附件正文，请重新预览")]
    )
    submit = SubmitField("确认导入")

    def validate_text(self, field: Field) -> None:
        try:
            check_text(field.data, name="附件正文")
        except TextFileError as exc:
            raise ValidationError(str(exc)) from None


class NewDepartmentForm(ConfirmForm):
    """From a preview, by an administrator: create one department the attachment names, then
    preview the same attachment again (the document's fields and text travel along)."""

    department_code = HiddenField(
        filters=[_strip], validators=[DataRequired("缺少部门代码，请重新预览")]
    )
    department_name = HiddenField(
        filters=[_strip], validators=[DataRequired("缺少部门名称，请重新预览")]
    )
    department_short_name = HiddenField(filters=[_strip])
