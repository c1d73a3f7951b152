"""The OpenAPI document is generated from the routes, and the API keeps to it (Schemathesis, in-process)."""
import schemathesis
import schemathesis.specs.openapi.checks  # noqa: F401  (registers the OpenAPI checks)
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import CHECKS as REGISTERED
from schemathesis.config import SchemathesisConfig
from schemathesis.generation import GenerationMode

from tests.api_support import bearer, token_for

# Every check Schemathesis has ("--checks all"), negative data rejection included. Valid data may still be
# refused by the domain's rules (an unknown platform code, a request in another state, another role's job).
CHECKS = REGISTERED.get_all()
CONFIG = SchemathesisConfig.from_dict({"checks": {
    "positive_data_acceptance": {"expected-statuses": ["2xx", 403, 404, 409, 422]},
}})


def test_document_lists_every_api_route(app, client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    documented = {(method.upper(), path) for path, methods in spec["paths"].items() for method in methods}
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("api.") and rule.endpoint not in ("api.openapi", "api.docs"):
            path = rule.rule.replace("<int(max=2147483647):", "{").replace(">", "}")
            routes |= {(method, path) for method in rule.methods - {"HEAD", "OPTIONS"}}
    assert routes == documented
    operation = spec["paths"]["/api/v1/requests"]["post"]
    assert operation["security"] == [{"bearerAuth": []}] and "requestBody" in operation
    assert spec["paths"]["/api/v1/verify"]["get"]["security"] == []


def test_documentation_page_lists_operations_without_scripts(client):
    response = client.get("/api/v1/docs")
    assert response.status_code == 200 and response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert "POST /api/v1/requests" in page and "PATCH /api/v1/requests/{request_id}/items" in page
    assert "<script" not in page.split("</header>")[-1]


def test_korean_documentation_page_describes_every_operation_in_korean(app, client):
    english = client.get("/api/v1/openapi.json?lang=ko").get_json()  # the published document stays English
    assert english["paths"]["/api/v1/requests"]["get"]["summary"].startswith("List the requests")
    page = client.get("/api/v1/docs?lang=ko").get_data(as_text=True)
    assert "호출자가 볼 수 있는(발송된) 요청 목록" in page  # a summary
    assert "기한이 지난 진행 중 요청만" in page  # a parameter's description
    assert "없거나 호출자가 접근할 수 없습니다" in page  # an answer's description
    assert "오류 메시지의 언어" in page
    with app.test_request_context("/?lang=ko"):
        from portal.api.spec import in_language, openapi_document

        korean = in_language(openapi_document(app))
    for path, methods in english["paths"].items():
        for method, operation in methods.items():
            translated = korean["paths"][path][method]
            # Every summary and description has its Korean; none is left as the English text.
            assert translated["summary"] != operation["summary"], (method, path)
            for answer, described in zip(translated["responses"].values(), operation["responses"].values()):
                assert answer["description"] != described["description"], (method, path)
            for parameter, described in zip(translated["parameters"], operation["parameters"]):
                if described.get("description"):
                    assert parameter["description"] != described["description"], (method, path, parameter["name"])


def test_english_documentation_page_keeps_the_english_texts(client):
    page = client.get("/api/v1/docs?lang=en").get_data(as_text=True)
    assert "List the requests the caller can see" in page and "Not found or outside the caller&#39;s reach" in page


# Schemathesis's pytest plugin does not run under this pytest; its schema and strategies are driven with
# Hypothesis directly instead: one bounded run per operation, in-process against the WSGI app.
SETTINGS = settings(max_examples=8, deadline=None, derandomize=True, database=None,
                    suppress_health_check=list(HealthCheck))


def _operations(app):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app, config=CONFIG)
    return [result.ok() for result in schema.get_all_operations()]


def test_api_keeps_to_its_document(app, make):
    parties = make.parties()
    make.request(parties, "acknowledged")
    make.request(parties, "draft")
    headers = [bearer(token_for(app, parties.supervisor)), bearer(token_for(app, parties.agent))]
    operations = _operations(app)
    assert len(operations) >= 14
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            @SETTINGS
            @given(case=operation.as_strategy(generation_mode=mode))
            def run(case):
                for header in headers:
                    case.call_and_validate(headers=header, checks=CHECKS)

            run()


def test_unauthenticated_calls_are_refused(app):
    for operation in _operations(app):
        if operation.definition.raw.get("security") == []:
            continue

        @settings(SETTINGS, max_examples=5)
        @given(case=operation.as_strategy())
        def run(case):
            response = case.call(headers={"Authorization": ""})
            assert response.status_code == 401, (case.method, case.path, response.status_code)
            assert set(response.json()) >= {"error", "message"}

        run()
