"""The rights-holder portal: server-rendered pages (Jinja2) in Japanese and English, served by
``kenri serve`` under ``/portal``, for holders (register, grants, findings, claims, reports) and
licensees (screening history, claims to answer, jobs)."""
