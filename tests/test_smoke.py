def test_login_with_two_factor_reaches_home(client, auth):
    auth.as_role("platform_agent")
    response = client.get("/home")
    assert response.status_code == 200
