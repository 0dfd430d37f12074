"""The template upload form: the file is read and checked here, row by row."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import SubmitField
from wtforms.validators import ValidationError

from tracker.exports.template import (
    MAX_UPLOAD_BYTES,
    ParsedUpload,
    Problem,
    TemplateRefused,
    read_upload,
)


class TemplateUploadForm(FlaskForm):
    """Upload a filled-in department template (.xlsx)."""

    file = FileField(
        "填好的填报模板（.xlsx）",
        validators=[FileRequired("请选择要上传的填报模板")],
        description=f"本系统下载的模板，不超过 {MAX_UPLOAD_BYTES // 1048576} MB",
    )
    submit = SubmitField("上传并保存为草稿")

    parsed: ParsedUpload | None
    problems: list[Problem]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.parsed, self.problems = None, []

    def validate_file(self, field: FileField) -> None:
        """Refuse what cannot be a template; problems in its cells go on to the service."""
        upload = field.data
        if not upload or not upload.filename:
            return
        try:
            self.parsed = read_upload(upload.filename, upload.stream)
        except TemplateRefused as exc:
            self.problems = exc.problems
            raise ValidationError(
                f"文件未通过检查，共 {len(exc.problems)} 个问题，未保存任何内容。"
            ) from None
