"""Log in (token in the body and in an HttpOnly cookie for the web UI) and log out."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request, Response, status
from sqlalchemy.orm import Session

from tradefleet.api.auth import COOKIE_NAME, check_credentials, create_access_token
from tradefleet.api.deps import ContextDep, get_current_user
from tradefleet.api.schemas.auth import LoginRequest, Token
from tradefleet.api.schemas.common import error_responses

router = APIRouter(prefix="/auth", tags=["auth"], responses=error_responses(401))
# login's own: 429 after too many failed attempts (its JSON body is the usual one)
_LOGIN_RESPONSES = error_responses(429)


@router.post("/login", responses=_LOGIN_RESPONSES)
async def login(
    body: LoginRequest,
    context: ContextDep,
    request: Request,
    response: Response,
) -> Token:
    """Exchange the admin password for a token; a failure never says which part was wrong.
    Too many failures from one client, or for one username, answer 429 for a while
    (``throttle``)."""
    settings = context.settings
    client = request.client.host if request.client is not None else "unknown"
    wait = context.login_throttle.retry_after(client, body.username)
    if wait is not None:
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            detail=f"too many failed logins: try again in {wait} s",
            headers={"Retry-After": str(wait)},
        )
    key = context.signing_key

    def sign_in(session: Session) -> str | None:
        """The new token, or None for wrong credentials (bcrypt is slow: not on the loop)."""
        password = body.password.get_secret_value()
        if not check_credentials(session, settings, body.username, password):
            return None
        return create_access_token(key.get(), settings.token_minutes, password_id=key.password_id())

    token = await context.database.read(sign_in)
    if token is None:
        context.login_throttle.failed(client, body.username)
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, detail="wrong username or password")
    context.login_throttle.succeeded(client, body.username)
    response.set_cookie(
        COOKIE_NAME,
        token,
        max_age=settings.token_minutes * 60,
        path="/api",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return Token(access_token=token)


@router.post(
    "/logout", status_code=status.HTTP_204_NO_CONTENT, dependencies=[Depends(get_current_user)]
)
async def logout(response: Response) -> None:
    """Clear the web UI's cookie (a bearer token simply expires)."""
    response.delete_cookie(COOKIE_NAME, path="/api", httponly=True, samesite="strict")
