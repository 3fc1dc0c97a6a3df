"""``lake serve``: the business units' web application (Starlette, served by uvicorn).

Every page is computed at each request from what the lake holds (quality history, review
decisions, contracts, catalogue, lineage events, tables), not from files generated earlier;
the GX Data Docs site is the one exception (GX writes it at each run), made offline first
(:mod:`quality.data_docs_offline`). Who may open what is :mod:`app.web.access`; the sign-in,
sessions and CSRF are :mod:`app.web.security`. The pages are French, built with the lake's page
toolkit (autoescaped templates extending ``base.html``), carry no script and load nothing from
another host.
"""

from __future__ import annotations

import datetime as dt
import logging
import tempfile
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from markupsafe import Markup
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from app.errors import AppError, Redirected
from app.web import access
from app.web.accounts import Account, load_accounts, verify
from app.web.security import (
    CSP_DATA_DOCS,
    CSP_PAGES,
    HEADERS,
    Throttle,
    new_token,
    same_token,
    session_secret,
)
from lake.settings import Settings

log = logging.getLogger(__name__)
TEMPLATES = Path(__file__).with_name("templates")
COOKIE = "lake_session"
IDLE_TIMEOUT_S = 30 * 60
ABSOLUTE_TIMEOUT_S = 10 * 3600
ACCOUNTS_TTL_S = 5.0
MAX_COMMENT = 2000


class LakeWeb:
    """The application's state: settings, cached accounts, sign-in throttle."""

    def __init__(
        self,
        settings: Settings,
        *,
        idle_timeout_s: int = IDLE_TIMEOUT_S,
        absolute_timeout_s: int = ABSOLUTE_TIMEOUT_S,
    ) -> None:
        self.settings = settings
        self.idle_timeout_s = idle_timeout_s
        self.absolute_timeout_s = absolute_timeout_s
        self.throttle = Throttle()
        self._accounts: tuple[float, dict[str, Account]] = (0.0, {})

    # --- accounts and sessions ---------------------------------------------------------------

    def accounts(self) -> dict[str, Account]:
        """The accounts, re-read from the lake every few seconds (a disabled one stops soon)."""
        at, cached = self._accounts
        if time.monotonic() - at > ACCOUNTS_TTL_S:
            cached = load_accounts(self.settings)
            self._accounts = (time.monotonic(), cached)
        return cached

    def forget_accounts(self) -> None:
        self._accounts = (0.0, {})

    async def account(self, request: Request) -> Account:
        """The signed-in account, or a redirect to the sign-in page."""
        login = request.session.get("login")
        started = request.session.get("started")
        expired = bool(request.cookies.get(COOKIE)) and not login
        if login and isinstance(started, (int, float)):
            if time.time() - started > self.absolute_timeout_s:
                request.session.clear()
                expired = True
            else:
                found = (await run_in_threadpool(self.accounts)).get(str(login))
                if found is not None and not found.disabled:
                    return found
                request.session.clear()
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        where = f"/connexion?suivant={quote(target)}" + ("&expiree=1" if expired else "")
        if request.method != "GET":
            raise Redirected(
                page(
                    self,
                    "error.html",
                    status=403,
                    title="Session requise",
                    message="Votre session a expiré ou vous n'êtes pas connecté : "
                    "reconnectez-vous puis recommencez.",
                )
            )
        raise Redirected(RedirectResponse(where, status_code=303))

    def csrf(self, request: Request) -> str:
        token = request.session.get("csrf")
        if not isinstance(token, str) or not token:
            token = new_token()
            request.session["csrf"] = token
        return token

    async def checked_form(self, request: Request) -> Any:
        """The POSTed form, after its CSRF token was checked (HTTP 403 otherwise)."""
        form = await request.form()
        if not same_token(request.session.get("csrf"), form.get("csrf")):
            raise Redirected(
                page(
                    self,
                    "error.html",
                    status=403,
                    title="Formulaire refusé",
                    message="Ce formulaire n'a pas été émis par cette page (jeton de sécurité "
                    "absent ou périmé). Rechargez la page et recommencez.",
                )
            )
        return form


def page(web: LakeWeb, template: str, *, status: int = 200, **values: Any) -> HTMLResponse:
    """A page from ``app/web/templates`` (autoescaped, extending the lake's ``base.html``)."""
    from lake.pages.templates import environment

    html = environment(TEMPLATES).get_template(template).render(**values)
    return HTMLResponse(html, status_code=status)


def _forbidden(web: LakeWeb, exc: AppError) -> HTMLResponse:
    message = exc.message + (f" Que faire : {exc.fix}." if exc.fix else "")
    return page(web, "error.html", status=403, title="Accès refusé", message=message)


def _local_target(target: str | None) -> str:
    """Only a path of this server may follow a sign-in (no open redirect)."""
    if not target:
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


# --- handlers --------------------------------------------------------------------------------


def handlers(web: LakeWeb) -> list[Route]:
    """The routes of the application."""

    def guarded(
        fn: Callable[[Request, Account], Awaitable[Response]],
    ) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            try:
                account = await web.account(request)
                return await fn(request, account)
            except Redirected as stop:
                return stop.response
            except access.Forbidden as exc:
                return _forbidden(web, exc)

        return endpoint

    async def login_form(request: Request) -> Response:
        return page(
            web,
            "login.html",
            csrf=web.csrf(request),
            next=_local_target(request.query_params.get("suivant")),
            expired=request.query_params.get("expiree") == "1",
            error=None,
        )

    async def login(request: Request) -> Response:
        try:
            form = await web.checked_form(request)
        except Redirected as stop:
            return stop.response
        name = str(form.get("login") or "").strip().lower()[:64]
        password = str(form.get("password") or "")[:1024]
        client = request.client.host if request.client else "-"
        target = _local_target(str(form.get("next") or "/"))
        if web.throttle.blocked(client, name):
            return page(
                web,
                "login.html",
                status=429,
                csrf=web.csrf(request),
                next=target,
                expired=False,
                error="Trop de tentatives : réessayez dans 15 minutes.",
            )
        web.forget_accounts()
        accounts = await run_in_threadpool(web.accounts)
        account = await run_in_threadpool(verify, accounts, name, password)
        if account is None:
            web.throttle.failed(client, name)
            return page(
                web,
                "login.html",
                status=401,
                csrf=web.csrf(request),
                next=target,
                expired=False,
                error="Identifiant ou mot de passe incorrect.",
            )
        web.throttle.succeeded(client, name)
        request.session.clear()  # a new session at sign-in: no fixation
        request.session.update(
            {"login": account.login, "started": time.time(), "csrf": new_token()}
        )
        return RedirectResponse(target, status_code=303)

    async def logout(request: Request) -> Response:
        try:
            await web.checked_form(request)
        except Redirected as stop:
            return stop.response
        request.session.clear()
        return RedirectResponse("/connexion", status_code=303)

    async def home(request: Request, account: Account) -> Response:
        internal = account.level <= access.INTERNAL_LEVEL
        return page(web, "home.html", **_common(web, request, account), internal=internal)

    async def quality_index(request: Request, account: Account) -> Response:
        data = await run_in_threadpool(_quality_data, web.settings)
        from quality.report import domain_slugs

        slugs = domain_slugs(data["results"], data["domains"])
        rows = [
            {
                "name": d["domain"],
                "owner": d["owner"],
                "href": f"/qualite/{slugs[d['domain']]}",
                "mine": access.owns_domain(account, data["contracts"], d["domain"]),
            }
            for d in data["domains"]
            if access.may_read_domain(account, data["contracts"], d["domain"])
        ]
        return page(web, "quality_index.html", **_common(web, request, account), domains=rows)

    async def quality_domain(request: Request, account: Account) -> Response:
        slug = request.path_params["slug"].removesuffix(".html")
        if slug == "index":
            return RedirectResponse("/qualite/", status_code=303)
        data = await run_in_threadpool(_quality_data, web.settings)
        name = _domain_by_slug(data, slug)
        if not access.may_read_domain(account, data["contracts"], name):
            raise access.Forbidden(
                f"La revue du domaine « {name} » est réservée à sa direction et aux comptes de "
                f"niveau {access.domain_level(data['contracts'], name)} ou moins ; votre compte "
                f"est de niveau {account.level}."
            )
        return await run_in_threadpool(_domain_page, web, request, account, data, name, slug)

    async def decide(request: Request, account: Account) -> Response:
        form = await web.checked_form(request)
        slug = request.path_params["slug"]
        data = await run_in_threadpool(_quality_data, web.settings)
        name = _domain_by_slug(data, slug)
        if not access.owns_domain(account, data["contracts"], name):
            raise access.Forbidden(
                f"Seule la direction propriétaire du domaine « {name} » peut valider ses revues."
            )
        row, problem = _decision_row(form, account, data, name)
        if problem:
            return await run_in_threadpool(
                _domain_page, web, request, account, data, name, slug, problem, 400
            )
        from lake import meta_tables

        await run_in_threadpool(
            meta_tables.append, web.settings, meta_tables.REVIEW_DECISIONS, [row]
        )
        return RedirectResponse(f"/qualite/{slug}#decisions-titre", status_code=303)

    async def dashboard(request: Request, account: Account) -> Response:
        access.require_internal(account, "Le tableau de bord")
        return HTMLResponse(await run_in_threadpool(_dashboard_html, web.settings))

    async def study(request: Request, account: Account) -> Response:
        access.require_internal(account, "L'étude d'opportunité")
        return HTMLResponse(await run_in_threadpool(_study_html, web.settings))

    async def cloud(request: Request, account: Account) -> Response:
        access.require_internal(account, "Le cadre d'usage du cloud")
        return HTMLResponse(await run_in_threadpool(_cloud_html, web.settings))

    async def catalog(request: Request, account: Account) -> Response:
        from app.cli.reports import gather

        facts = await run_in_threadpool(gather, web.settings)
        tables = access.visible_tables(account, facts.catalog["tables"])
        return page(web, "catalog.html", **_common(web, request, account), tables=tables)

    async def table(request: Request, account: Account) -> Response:
        from lake.contracts import load_contracts

        key = f"{request.path_params['layer']}/{request.path_params['name']}"
        contracts = load_contracts(web.settings.root)
        view = await run_in_threadpool(access.table_view, web.settings, key, account, contracts)
        return page(web, "table.html", **_common(web, request, account), view=view)

    async def lineage(request: Request, account: Account) -> Response:
        access.require_internal(account, "Le lignage")
        svg = await run_in_threadpool(_lineage_svg, web.settings, request.path_params["name"])
        if svg is None:
            return page(
                web,
                "error.html",
                status=404,
                title="Lignage introuvable",
                message="Aucune table gold de ce nom dans le lignage du lac.",
            )
        return Response(svg, media_type="image/svg+xml")

    async def data_docs(request: Request, account: Account) -> Response:
        access.require_internal(account, "La documentation Great Expectations")
        from quality.validation import data_docs_index

        site = data_docs_index(web.settings.reports.dir).parent
        wanted = (site / request.path_params["path"]).resolve()
        if wanted.is_dir():
            wanted = wanted / "index.html"
        if site not in wanted.parents or not wanted.is_file():
            return page(
                web,
                "error.html",
                status=404,
                title="Page introuvable",
                message="Cette page de la documentation Great Expectations n'existe pas.",
            )
        return FileResponse(wanted)

    return [
        Route("/connexion", login_form, methods=["GET"]),
        Route("/connexion", login, methods=["POST"]),
        Route("/deconnexion", logout, methods=["POST"]),
        Route("/", guarded(home)),
        Route("/qualite/", guarded(quality_index)),
        Route("/qualite/{slug}", guarded(quality_domain), methods=["GET"]),
        Route("/qualite/{slug}/decision", guarded(decide), methods=["POST"]),
        Route("/tableau-de-bord", guarded(dashboard)),
        Route("/etude", guarded(study)),
        Route("/cloud", guarded(cloud)),
        Route("/catalogue", guarded(catalog)),
        Route("/tables/{layer}/{name}", guarded(table)),
        Route("/lignage/{name}.svg", guarded(lineage)),
        Route("/gx/{path:path}", guarded(data_docs)),
    ]


def _common(web: LakeWeb, request: Request, account: Account) -> dict[str, Any]:
    return {"account": account, "csrf": web.csrf(request)}


# --- what the pages read from the lake -------------------------------------------------------


def _quality_data(settings: Settings) -> dict[str, Any]:
    from lake import meta_tables
    from lake.contracts import load_contracts
    from quality import history
    from quality.review import domains_of, failing_samples

    contracts = load_contracts(settings.root)
    results = history.read(settings)
    for row in results:  # the engineers' link goes to this server's copy of the Data Docs
        if row.get("data_docs"):
            row["data_docs"] = "/gx/index.html"
    return {
        "contracts": contracts,
        "results": results,
        "samples": failing_samples(settings, results),
        "domains": domains_of(contracts),
        "decisions": meta_tables.read(settings, meta_tables.REVIEW_DECISIONS),
    }


def _domain_by_slug(data: Mapping[str, Any], slug: str) -> str:
    from quality.report import domain_slugs

    for name, found in domain_slugs(data["results"], data["domains"]).items():
        if found == slug:
            return name
    raise access.Forbidden(f"Aucun domaine « {slug} » : la page n'existe pas ou vous est fermée.")


def _domain_page(
    web: LakeWeb,
    request: Request,
    account: Account,
    data: Mapping[str, Any],
    name: str,
    slug: str,
    problem: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    from lake.pages.templates import environment
    from quality.report import render_domain_page
    from quality.scoring import group_reviews, latest_reviews

    reviews = [r for r in group_reviews(data["results"]) if r.domain == name]
    owner = access.owns_domain(account, data["contracts"], name)
    forms = [
        {
            "review_id": r.review_id,
            "table": r.table,
            "when": r.reviewed_at.strftime("%d/%m/%Y %H:%M UTC"),
            "failed": sorted({str(x["rule_id"]) for x in r.results if not x.get("success")}),
        }
        for r in latest_reviews(reviews)
    ]
    actions = (
        environment(TEMPLATES)
        .get_template("actions.html")
        .render(
            account=account,
            csrf=web.csrf(request),
            owner=owner,
            forms=forms,
            slug=slug,
            problem=problem,
            today=dt.date.today().isoformat(),
        )
    )
    internal = account.level <= access.INTERNAL_LEVEL
    results = data["results"]
    if not internal:  # the engineers' Data Docs are internal: no link that would answer 403
        results = [{**r, "data_docs": None} for r in results]
    html, _ = render_domain_page(
        results,
        data["samples"],
        data["domains"],
        domain=name,
        decisions=data["decisions"],
        data_docs_index="/gx/index.html" if internal else None,
        actions=Markup(actions),  # rendered above by an autoescaping template
    )
    return HTMLResponse(html, status_code=status)


def _decision_row(
    form: Any, account: Account, data: Mapping[str, Any], domain: str
) -> tuple[dict[str, Any], str | None]:
    """The decision to store, or the French reason it is refused."""
    import uuid

    from lake.review_decisions import DECISIONS
    from quality.scoring import group_reviews

    reviews = {r.review_id: r for r in group_reviews(data["results"]) if r.domain == domain}
    review = reviews.get(str(form.get("review_id") or ""))
    decision = str(form.get("decision") or "")
    comment = str(form.get("comment") or "").strip()
    rules = [str(r) for r in form.getlist("rules")]
    due_text = str(form.get("due_date") or "").strip()
    if review is None:
        return {}, "Revue inconnue pour ce domaine : rechargez la page."
    if decision not in DECISIONS:
        return {}, "Choisissez « valider la revue » ou « à corriger à la source »."
    if len(comment) > MAX_COMMENT:
        return {}, f"Le commentaire dépasse {MAX_COMMENT} caractères."
    known = {str(x.get("rule_id")) for x in review.results}
    if any(r not in known for r in rules):
        return {}, "Un contrôle choisi n'appartient pas à cette revue."
    due = None
    if decision == "to_fix":
        if not comment:
            return {}, "Dites ce qui doit être corrigé à la source (commentaire)."
        try:
            day = dt.date.fromisoformat(due_text)
        except ValueError:
            return {}, "Donnez une échéance (date) pour la correction."
        if day < dt.date.today():
            return {}, "L'échéance ne peut pas être passée."
        due = dt.datetime(day.year, day.month, day.day, 23, 59, tzinfo=dt.UTC)
    direction = next(
        (
            c.owner
            for c in access.domain_sources(data["contracts"], domain)
            if account.owns(c.owner)
        ),
        "",
    )
    direction = review.owner if account.owns(review.owner) else direction
    return {
        "decision_id": str(uuid.uuid4()),
        "review_id": review.review_id,
        "table": review.table,
        "source": review.source,
        "domain": domain,
        "direction": direction,
        "decision": decision,
        "comment": comment,
        "rules": rules,
        "due_date": due,
        "decided_by": account.login,
        "decided_at": dt.datetime.now(dt.UTC),
    }, None


def _dashboard_html(settings: Settings) -> str:
    from app.cli.reports import dashboard_indicators, gather
    from governance.dashboard import render_dashboard

    indicators = dashboard_indicators(settings, gather(settings))
    links = {"A13": "/qualite/", "A15": "/etude", "A09": "/cloud"}
    with tempfile.TemporaryDirectory() as tmp:
        out = render_dashboard(indicators, Path(tmp) / "tableau-de-bord.html", links=links)
        return out.read_text(encoding="utf-8")


def _study_html(settings: Settings) -> str:
    from app.cli.reports import build_study, cloud_decisions, gather
    from governance.study.render import render_html

    facts = gather(settings)
    _, decisions = cloud_decisions(settings, facts)
    study = build_study(settings, facts, decisions)
    with tempfile.TemporaryDirectory() as tmp:
        return render_html(study, Path(tmp) / "index.html").read_text(encoding="utf-8")


def _cloud_html(settings: Settings) -> str:
    from app.cli.reports import cloud_decisions, gather
    from governance.cloud.framework import render_html

    facts = gather(settings)
    policy, decisions = cloud_decisions(settings, facts)
    with tempfile.TemporaryDirectory() as tmp:
        return render_html(decisions, policy, Path(tmp) / "cloud.html").read_text(encoding="utf-8")


def _lineage_svg(settings: Settings, name: str) -> str | None:
    from governance.lineage.render import render_svg
    from governance.sensitivity.tags import load_graph

    graph = load_graph(settings)
    gold = [d for d in graph.datasets if d.layer == "gold" and d.name == f"gold/{name}"]
    return render_svg(graph.upstream(gold[0])) if gold else None


# --- the application -------------------------------------------------------------------------


class _Headers(BaseHTTPMiddleware):
    async def dispatch(
        self, request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        docs = request.url.path.startswith("/gx/")
        response.headers["Content-Security-Policy"] = CSP_DATA_DOCS if docs else CSP_PAGES
        for key, value in HEADERS.items():
            response.headers.setdefault(key, value)
        return response


def create_app(
    settings: Settings,
    *,
    https_only: bool = False,
    idle_timeout_s: int = IDLE_TIMEOUT_S,
    absolute_timeout_s: int = ABSOLUTE_TIMEOUT_S,
) -> Starlette:
    """The ASGI application of ``lake serve``.

    Args:
        settings: The lake to serve.
        https_only: Mark the session cookie ``Secure`` (behind a TLS proxy).
        idle_timeout_s: A session unused this long is refused (signed timestamp).
        absolute_timeout_s: A session older than this is refused, however used.
    """
    web = LakeWeb(settings, idle_timeout_s=idle_timeout_s, absolute_timeout_s=absolute_timeout_s)
    return Starlette(
        routes=handlers(web),
        middleware=[
            Middleware(_Headers),
            Middleware(
                SessionMiddleware,
                secret_key=session_secret(settings),
                session_cookie=COOKIE,
                max_age=idle_timeout_s,
                same_site="strict",
                https_only=https_only,
            ),
        ],
    )


def prepare_data_docs(settings: Settings) -> Sequence[Path]:
    """Make the GX Data Docs site offline before serving it (fetches the assets once)."""
    from quality.data_docs_offline import make_offline
    from quality.validation import data_docs_index

    return make_offline(data_docs_index(settings.reports.dir).parent)
