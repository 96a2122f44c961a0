"""The features the staff web app serves, in the order their middlewares run."""

from __future__ import annotations

from office.admin.web.feature import FEATURE as ADMIN
from office.documents.web.feature import FEATURE as DOCUMENTS
from office.home.web.feature import FEATURE as HOME
from office.mail.web.feature import FEATURE as MAIL
from office.reports.web.feature import FEATURE as REPORTS
from office.schedules.web.feature import FEATURE as SCHEDULES
from office.web.feature import Feature

FEATURES: tuple[Feature, ...] = (HOME, DOCUMENTS, ADMIN, MAIL, SCHEDULES, REPORTS)
