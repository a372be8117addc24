"""Meta's browser sign-in (Threads, Instagram, Facebook Pages) with the person's own Meta app.

Meta sends sign-ins only to https addresses, so nothing listens on this computer: the browser
lands on the registered address (which may not load) and the person pastes that address back.
`base` replaces every Meta host at once (OUTPOST_API_BASE_<PLATFORM>, the test servers).
"""

from __future__ import annotations

from app.auth import facebook, instagram, threads
from app.core.models import Platform

MetaBrowserSignIn = threads.ThreadsBrowserSignIn | instagram.InstagramBrowserSignIn | facebook.FacebookBrowserSignIn
PLATFORMS = (Platform.THREADS, Platform.INSTAGRAM, Platform.FACEBOOK)


def default_redirect(platform: Platform) -> str:
    """The address to register in the Meta app; it only has to match, nothing serves it."""
    return f"https://127.0.0.1:8443/callback/{platform.value}"


def browser_sign_in(platform: Platform, app_id: str, app_secret: str, redirect_uri: str, *, page: str = "",
                    base: str = "") -> MetaBrowserSignIn:
    if platform is Platform.THREADS:
        return threads.ThreadsBrowserSignIn(app_id, app_secret, redirect_uri, api_base=base or threads.DEFAULT_BASE,
                                            authorize_url=f"{base}/oauth/authorize" if base else threads.AUTHORIZE_URL)
    if platform is Platform.INSTAGRAM:
        return instagram.InstagramBrowserSignIn(
            app_id, app_secret, redirect_uri, api_base=base or instagram.DEFAULT_BASE,
            oauth_base=base or instagram.OAUTH_BASE,
            authorize_url=f"{base}/oauth/authorize" if base else instagram.AUTHORIZE_URL)
    if platform is Platform.FACEBOOK:
        return facebook.FacebookBrowserSignIn(
            app_id, app_secret, redirect_uri, page=page, api_base=base or facebook.DEFAULT_BASE,
            authorize_url=f"{base}/{facebook.VERSION}/dialog/oauth" if base else facebook.AUTHORIZE_URL)
    raise ValueError(f"{platform.label} does not sign in through Meta")
