"""The staff pages' messages in English, for staff and visitors who do not read Vietnamese.

The catalogue has exactly the same keys and ``str.format`` placeholders as the Vietnamese one
(``office.web.messages.VI``), which stays the default: pages name messages by key, so switching
language is a matter of choosing this dictionary instead. The English names follow
``GLOSSARY.md`` (incoming number, direction, lead handler, recall…); a Vietnamese term is kept in
brackets only where it is the legal name staff know.
"""

from __future__ import annotations

EN: dict[str, str] = {
    # Document types (loại văn bản), by abbreviation
    "doctype.CV": "Official letter",
    "doctype.NQ": "Resolution",
    "doctype.QĐ": "Decision",
    "doctype.CT": "Directive",
    "doctype.KL": "Conclusion",
    "doctype.QC": "Rules",
    "doctype.QyĐ": "Regulation",
    "doctype.TB": "Notice",
    "doctype.HD": "Guidance",
    "doctype.KH": "Plan",
    "doctype.CTr": "Programme",
    "doctype.BC": "Report",
    "doctype.TTr": "Submission",
    "doctype.GM": "Invitation",
    "doctype.BB": "Minutes",
    "doctype.CĐ": "Telegram",
    # Application (office/web/messages.py)
    "app.name": "Electronic documents",
    "app.tagline": "Office management system",
    "app.node": "Server {node}",
    "nav.skip": "Skip to main content",
    "app.language": "Language",
    # Sign-in
    "signin.title": "Sign in",
    "signin.intro": (
        "Sign in with your staff account and the verification code from the authenticator app "
        "on your phone."
    ),
    "signin.username": "Username",
    "signin.password": "Password",
    "signin.totp": "Verification code (6 digits)",
    "signin.totp_hint": (
        "Open your authenticator app (Google Authenticator, FreeOTP…) and enter the code it "
        "is showing."
    ),
    "signin.submit": "Sign in",
    "signin.refused.bad-credentials": (
        "The username, password or verification code is incorrect. Please check and try again."
    ),
    "signin.refused.locked": (
        "Too many failed sign-in attempts from this network address. "
        "Please try again in {minutes} minutes or contact your administrator."
    ),
    "signin.refused.disabled": (
        "This account has been disabled. Please contact your unit's administrator."
    ),
    "signin.refused.no-totp": (
        "Two-factor authentication has not been set up for this account. "
        "Please contact your administrator to have it set up."
    ),
    "signin.notice.expired": "Your session has expired. Please sign in again.",
    "signin.notice.signed-out": "You have signed out.",
    "signin.notice.required": "Please sign in to continue.",
    # Signed in
    "signout.submit": "Sign out",
    "home.title": "Home",
    "home.greeting": "Hello, {name}",
    "home.unit": "Unit",
    "home.role": "Role",
    "home.clearance": "Security clearance",
    "home.signed_in_at": "Signed in at",
    "home.sections": "Sections",
    "home.tasks": "My tasks",
    "home.tasks.none": "You have no tasks waiting.",
    "home.followed": "Tasks you assigned that are due soon or overdue",
    "home.awaiting_direction": "Documents awaiting direction",
    "home.queue": "Incoming documents awaiting registration",
    "home.due_soon": "Due soon",
    "home.figures.received": "Incoming documents this year",
    "home.figures.in_progress": "In progress",
    "home.figures.overdue": "Overdue",
    "home.figures.done": "Completed this year",
    "role.admin": "System administrator",
    "role.clerk": "Clerk",
    "role.leader": "Leader",
    "role.staff": "Staff",
    "clearance.0": "None",
    "clearance.1": "Confidential",
    "clearance.2": "Secret",
    "clearance.3": "Top secret",
    "section.incoming": "Incoming documents",
    "section.incoming.about": "Receive, register and handle incoming documents",
    "section.outgoing": "Outgoing documents",
    "section.outgoing.about": "Draft, digitally sign and issue outgoing documents",
    "section.schedule": "Work schedule",
    "section.schedule.about": "The unit's weekly work schedule",
    "section.mail": "E-mail",
    "section.mail.about": "Official mailbox",
    "section.search": "Search",
    "section.search.about": "Find documents by summary, number and symbol, or sender",
    "section.admin": "Administration",
    "section.admin.about": "Accounts, units, keys and statistics",
    # Errors
    "error.title": "The action could not be completed",
    "error.csrf.title": "Invalid form",
    "error.csrf": (
        "The form is missing its security token, or the token is invalid (the page may have "
        "been open too long). No changes have been made. Please reload the page and try again."
    ),
    "error.not-found.title": "Page not found",
    "error.not-found": (
        "The page you are looking for does not exist or you do not have permission to view it."
    ),
    "error.method.title": "Invalid action",
    "error.method": "This page does not accept that action.",
    "error.back_home": "Back to home",
    # Incoming register (office/messages_incoming.py)
    "incoming.title": "Incoming documents",
    "incoming.queue": "Awaiting registration",
    "incoming.queue.empty": "No documents are awaiting registration.",
    "incoming.register": "Incoming register (sổ văn bản đến)",
    "incoming.register.empty": "No documents match the filter.",
    "incoming.new": "Enter a paper document",
    "incoming.new.intro": (
        "Paper document: enter its details, attach the scan (PDF) and register it in one step."
    ),
    "incoming.duplicate_alert": "Possible duplicate",
    "incoming.col.received": "Date received",
    "incoming.col.number": "Incoming no.",
    "incoming.col.sender": "Issuing body",
    "incoming.col.symbol": "Number and symbol",
    "incoming.col.issued": "Document date",
    "incoming.col.summary": "Type and summary",
    "incoming.col.handler": "Passed to (unit, person)",
    "incoming.col.due": "Deadline",
    "incoming.col.state": "Status",
    "incoming.col.note": "Notes",
    "incoming.filter": "Filter",
    "incoming.filter.from": "From",
    "incoming.filter.to": "To",
    "incoming.filter.any": "All",
    "incoming.filter.apply": "Apply filter",
    "incoming.page.previous": "Previous page",
    "incoming.page.next": "Next page",
    "incoming.export.xlsx": "Export to Excel",
    "incoming.export.pdf": "Print register (PDF)",
    "incoming.export.printed": "Printed at {at}",
    "state.received": "Awaiting registration",
    "state.registered": "Registered",
    "state.assigned": "In progress",
    "state.done": "Completed",
    "state.returned": "Returned",
    "state.draft": "Draft",
    "state.issued": "Numbered and signed",
    "state.sent": "Issued",
    "doc.type": "Document type",
    "doc.summary": "Summary",
    "doc.symbol": "Number and symbol",
    "doc.sender": "Sender (issuing body)",
    "doc.signer": "Signed by",
    "doc.issued_on": "Document date",
    "doc.urgency": "Urgency",
    "doc.secrecy": "Secrecy level",
    "doc.pages": "Number of sheets",
    "doc.note": "Notes",
    "doc.file": "Document file (PDF)",
    "doc.files": "Attachments",
    "doc.register_number": "Incoming number",
    "doc.received_at": "Date received",
    "doc.state": "Status",
    "doc.due_on": "Deadline",
    "doc.direction_note": "Direction",
    "doc.history": "Handling history",
    "doc.access": "Access log",
    "doc.assignments": "Handling assignments",
    "doc.overdue": "Overdue",
    "doc.assignment.part": "Role",
    "doc.assignment.who": "Handler",
    "doc.signature.valid": "Valid digital signature: {signer}",
    "doc.signature.invalid": "Digital signature NOT valid (the file was altered after signing)",
    "doc.signature.untrusted": (
        "Digitally signed, but not with a certificate from the provincial CA: {signer}"
    ),
    "doc.signature.revoked": "Signed with a certificate the CA has revoked: {signer}",
    "doc.signature.unsigned": "No digital signature",
    "doc.signature.pending": "Checking the digital signature…",
    "doc.version_hint": "Form version",
    "doc.confirm_duplicate": "Register anyway (checked: not a duplicate)",
    "action.register": "Register",
    "action.return": "Return to sender",
    "action.return.reason": "Reason for returning",
    "action.direct": "Give direction and assign",
    "action.direct.note": "Direction",
    "action.direct.lead": "Lead handler",
    "action.direct.co": "Co-handlers",
    "action.direct.days": "Deadline (working days)",
    "action.direct.submit": "Assign",
    "action.progress": "Report progress",
    "action.progress.submit": "Submit progress",
    "action.finish": "Complete handling",
    "action.finish.note": "Outcome",
    "action.finish.submit": "Complete",
    "action.enter": "Enter and register",
    "action.choose": "— Select —",
    "part.lead": "Lead handler",
    "part.co": "Co-handler",
    "assignment.open": "In progress",
    "assignment.done": "Done",
    "assignment.replaced": "Replaced",
    "event.received": "Received over the network",
    "event.entered": "Paper document entered",
    "event.registered": "Registered",
    "event.returned": "Returned",
    "event.directed": "Direction given",
    "event.assigned": "Assigned",
    "event.progress": "Progress",
    "event.finished": "Own part completed",
    "event.done": "Completed",
    "event.viewed": "Viewed",
    "event.downloaded": "File downloaded",
    "event.reminded": "Deadline reminder",
    "event.system": "System",
    "search.query": "Keywords (with or without Vietnamese diacritics)",
    "search.placeholder": "e.g. cong van dong ha",
    "search.submit": "Search",
    "search.none": "No documents match “{query}”.",
    "search.col.book": "Register",
    "search.book.incoming": "Incoming",
    "search.book.outgoing": "Outgoing",
    "urgency.0": "Normal",
    "urgency.1": "Urgent",
    "urgency.2": "Very urgent",
    "urgency.3": "Flash",
    # Outgoing register and delivery timeline (office/messages_outgoing.py)
    "outgoing.title": "Outgoing documents",
    "outgoing.drafts": "Drafts awaiting issue",
    "outgoing.drafts.empty": "No drafts are awaiting issue.",
    "outgoing.register": "Outgoing register (sổ văn bản đi)",
    "outgoing.register.empty": "No documents match the filter.",
    "outgoing.new": "Draft an outgoing document",
    "outgoing.new.intro": (
        "Upload the finished document as a PDF and choose the recipients. The clerk will "
        "number it, sign it digitally with the unit's key and issue it."
    ),
    "outgoing.new.submit": "Save draft",
    "outgoing.recipients": "Recipients",
    "outgoing.recipients.groups": "Send to groups",
    "outgoing.recipients.units": "Or choose individual units",
    "outgoing.group.districts": "All district, town and city committees",
    "outgoing.group.boards": "Boards and affiliated Party committees",
    "outgoing.group.province": "Provincial committee",
    "kind.province": "Provincial committee",
    "kind.board": "Boards and advisory offices",
    "kind.sector": "Affiliated Party committees",
    "kind.district": "District, town and city committees",
    "kind.commune": "Communes, wards and townships",
    "kind.other": "Other units",
    "outgoing.col.symbol": "Number and symbol",
    "outgoing.col.issued": "Date",
    "outgoing.col.summary": "Type and summary",
    "outgoing.col.signer": "Signed by",
    "outgoing.col.recipients": "Recipients",
    "outgoing.col.keeper": "File copy kept by (unit, person)",
    "outgoing.col.copies": "Number of copies",
    "outgoing.col.sent": "Date dispatched",
    "outgoing.col.receipts": "Acknowledged",
    "outgoing.col.note": "Notes",
    "outgoing.col.created": "Date drafted",
    "outgoing.col.drafter": "Drafted by",
    "outgoing.receipts": "{count}/{total} units",
    "outgoing.secret": "(classified register)",
    "outgoing.keeper": "Clerk; {name}",
    "outgoing.timeline": "Delivery tracking",
    "outgoing.timeline.steps": "Progress",
    "outgoing.timeline.unit": "Receiving unit",
    "outgoing.timeline.empty": "The document has not been sent yet.",
    "outgoing.send_problem": (
        "The document has been numbered but could not be sent: {reason}. The number is kept; "
        "fix the cause, then click “Resend”."
    ),
    "outgoing.recall_state.requested": "Recall requested",
    "outgoing.recall_state.agreed": "Recalled",
    "outgoing.recall_state.refused": "Recall refused",
    "action.issue": "Number, sign and issue",
    "action.issue.hint": (
        "The document will be given the next number in this year's outgoing register, signed "
        "digitally with the unit's key and sent to the recipients at once."
    ),
    "action.resend": "Resend",
    "action.recall": "Recall document",
    "action.recall.note": "Reason for recall",
    "action.recall.hint": "The recall request is sent to all recipients.",
    "action.recall.agree": "Agree to recall",
    "action.recall.refuse": "Refuse recall",
    "action.recall.refuse.note": "Reason for refusal",
    "timeline.sent": "Sent",
    "timeline.delivered": "Delivered (digitally signed receipt)",
    "timeline.refused": "Refused by the recipient",
    "timeline.failed": "Could not be sent",
    "timeline.waiting": "In transit",
    "status.01": "Received",
    "status.02": "Returned",
    "status.03": "Registered",
    "status.04": "Assigned",
    "status.05": "In progress",
    "status.06": "Completed",
    "status.13": "Recall requested",
    "status.15": "Recall agreed",
    "status.16": "Recall refused",
    "recall.requested": "The sender has requested the recall of this document",
    "recall.agreed": "Recall agreed: the document is no longer in force",
    "recall.refused": "Recall refused",
    "event.drafted": "Draft created",
    "event.issued": "Numbered and signed",
    "event.send-attempt": "Dispatched",
    "event.send-failed": "Sending failed",
    "event.sent": "Issued",
    "event.recall-requested": "Recall requested",
    "event.recall-agreed": "Recall agreed",
    "event.recall-refused": "Recall refused",
    "outgoing.edit": "Edit outgoing draft",
    "outgoing.edit.back": "Back to the draft",
    "outgoing.edit.intro": (
        "Change the draft's details and recipients. To replace the document, choose a new PDF; "
        "leave it empty to keep the current file."
    ),
    "outgoing.edit.file": "Replace the document file (PDF, optional)",
    "outgoing.edit.current_file": "Current file: {name}",
    "outgoing.edit.submit": "Save changes",
    "outgoing.notice.deleted": "The draft has been deleted.",
    "action.edit_draft": "Edit draft",
    "action.delete_draft": "Delete draft",
    "action.delete_draft.hint": (
        "This unnumbered draft will be deleted for good, with its file and its history. "
        "It cannot be restored."
    ),
    "action.delete_draft.confirm": "Confirm: delete the draft",
    "event.edited": "Draft edited",
    # Administration (office/messages_admin.py)
    "admin.title": "Account administration",
    "admin.intro": "Staff accounts of the units managed by this server: {units}.",
    "admin.empty": "There are no accounts yet.",
    "admin.col.username": "Username",
    "admin.col.full_name": "Full name",
    "admin.col.unit": "Unit",
    "admin.col.role": "Role",
    "admin.col.clearance": "Clearance",
    "admin.col.totp": "Two-factor authentication",
    "admin.col.locked_until": "Locked until",
    "admin.col.state": "Status",
    "admin.col.actions": "Actions",
    "admin.totp.enrolled": "Set up",
    "admin.totp.missing": "Not set up",
    "admin.state.active": "Active",
    "admin.state.disabled": "Disabled",
    "admin.action.unlock": "Unlock",
    "admin.action.totp": "Reissue verification code",
    "admin.action.disable": "Disable",
    "admin.action.enable": "Re-enable",
    "admin.notice.unlocked": "Account {user} has been unlocked and can sign in again.",
    "admin.notice.disabled": (
        "Account {user} has been disabled; its open sessions have been ended."
    ),
    "admin.notice.enabled": "Account {user} has been re-enabled.",
    "admin.totp.title": "New verification code",
    "admin.totp.account": "Account",
    "admin.totp.once": (
        "The QR code and secret key below are shown only once. Hand them to the user in "
        "person: do not photograph, print or send them by e-mail or text message. Close this "
        "page when you have finished."
    ),
    "admin.totp.scan": (
        "The user opens their authenticator app (Google Authenticator, FreeOTP…) and scans "
        "this QR code."
    ),
    "admin.totp.qr_alt": "QR code to set up the authenticator app for account {user}",
    "admin.totp.manual": "Or enter the secret key (time-based, 6 digits, 30 seconds):",
    "admin.totp.ended": (
        "The old verification code no longer works; the account's open sessions have been ended."
    ),
    "admin.back": "Back to the account list",
    "admin.refused.unknown-user": (
        "There is no account “{user}” in the units managed by this server. "
        "Other units' accounts are administered on those units' own servers."
    ),
    "admin.refused.own-account": (
        "You cannot disable the account you are signed in with. "
        "Please ask another administrator to do it."
    ),
    "error.unknown-user.title": "Account not found",
    # Web mailbox (office/messages_mail.py)
    "nav.main": "Shortcuts",
    "nav.mail": "Mail",
    "mail.unread_count": "{count} unread",
    "mail.folders": "Mail folders",
    "mail.inbox": "Inbox",
    "mail.sent": "Sent mail",
    "mail.compose": "Write a message",
    "mail.search": "Search mail (with or without Vietnamese diacritics)",
    "mail.search.placeholder": "e.g. cong van dong ha",
    "mail.search.none": "No messages match “{query}”.",
    "mail.total": "Messages: {count}",
    "mail.empty": "No messages yet.",
    "mail.from": "From",
    "mail.to": "To",
    "mail.cc": "Cc",
    "mail.subject": "Subject",
    "mail.date": "Date",
    "mail.size": "Size",
    "mail.body": "Message",
    "mail.no_subject": "(No subject)",
    "mail.new": "new",
    "mail.has_attachments": "has attachments",
    "mail.attachments": "Attachments",
    "mail.reply": "Reply",
    "mail.forward": "Forward",
    "mail.to_document": "Hand to the clerk for registration",
    "mail.mark_unread": "Mark as unread",
    "mail.send": "Send",
    "mail.notice.sent": "Your message has been sent.",
    "mail.notice.unread": "The message is marked as unread.",
    "mail.notice.document": (
        "This message has become an incoming document, waiting for the unit's clerk to register it."
    ),
    "mail.compose.addresses": (
        "Separate several addresses with commas, e.g. vanthu.tu@tinhuy.vn, lan@huyuy.vn"
    ),
    "mail.compose.attach": "Attachments (you may choose several files)",
    "mail.compose.carried": "The original message's attachments go along:",
    "mail.compose.limit": "The message and its attachments may not exceed {limit} bytes.",
    "mail.compose.too_large": (
        "The attachments are too large: a whole message may not exceed {limit} bytes. "
        "Please attach fewer files, choose them again and send again."
    ),
    "mail.reply.said": "On {when}, {who} wrote:",
    "mail.forward.header": "---------- Forwarded message ----------",
    "mail.to_document.inbox_only": "Only received mail can become an incoming document.",
    "mail.unavailable": "Mail is not enabled on this server. Please contact the administrator.",
    "mail.no_mailbox": "Your account has no mailbox on this server.",
    "mail.client.title": "Using a mail program (Thunderbird, Outlook, a phone)",
    "mail.client.intro": (
        "To send mail from a mail program, set up the outgoing (SMTP) server as follows. "
        "The connection is always encrypted: choose STARTTLS."
    ),
    "mail.client.address": "Your mail address",
    "mail.client.server": "Outgoing mail server (SMTP)",
    "mail.client.port": "Port",
    "mail.client.username": "Username",
    "mail.client.password": "Password",
    "mail.client.password.how": (
        "An app password the administrator issues for each device "
        "(not the password you sign in here with)."
    ),
    "mail.client.off": "This server does not accept mail programs yet.",
    "mail.client.ca": "Download the network's root (CA) certificate",
    "mail.client.ca.how": (
        "Install this certificate on the computer or phone (as a trusted certificate) so that "
        "the mail program trusts the unit's server."
    ),
    "event.from-mail": "Handed over from mail",
    "error.mail-unavailable.title": "Mail not available",
    "error.no-mailbox.title": "No mailbox",
    "error.unknown-mail.title": "Message not found",
    "error.unknown-attachment.title": "Attachment not found",
    # Calendar feeds (office/messages_feeds.py)
    "feeds.title": "Calendar on your phone",
    "feeds.intro": (
        "Subscribe to the work schedule in the calendar app of your phone or computer (Google "
        "Calendar, iPhone Calendar, Outlook, Thunderbird…) with an address of your own. The app "
        "updates itself when a schedule is published or adjusted."
    ),
    "feeds.secret": (
        "This address is secret: whoever has it sees your calendar, including the classified "
        "entries you may see. Do not share it. If it leaks, issue a new address: the old one "
        "stops working at once."
    ),
    "feeds.scope.unit": "My unit's work schedule",
    "feeds.scope.unit.about": "Every published weekly schedule of {unit}.",
    "feeds.scope.person": "My calendar",
    "feeds.scope.person.about": "What you chair or attend.",
    "feeds.active_since": "Active, issued on {date}.",
    "feeds.none": "No address yet.",
    "feeds.create": "Create an address",
    "feeds.renew": "Issue a new address",
    "feeds.renew.warning": "The old address stops working.",
    "feeds.new_url": "New address of “{scope}”",
    "feeds.new_url.once": (
        "Copy this address into your calendar app (“Add calendar from URL” or “Subscribe”) "
        "now: for safety, this page shows it only once."
    ),
    "feeds.not_found": "Calendar not found.",
    "feeds.bad_scope": "Unknown kind of calendar.",
    "feeds.ics.unit_calendar": "Work schedule of {unit}",
    "feeds.ics.person_calendar": "Work schedule of {name}",
    "feeds.ics.chair": "Chaired by: {value}",
    "feeds.ics.attendees": "Attendees: {value}",
    "feeds.ics.prepared_by": "Prepared by: {value}",
    "feeds.ics.notes": "Notes: {value}",
    "feeds.ics.secrecy": "Classification: {level}",
    "feeds.ics.adjusted": "Adjusted",
    "feeds.ics.cancelled": "Cancelled",
    "feeds.ics.cancelled_summary": "[Cancelled] {summary}",
}
