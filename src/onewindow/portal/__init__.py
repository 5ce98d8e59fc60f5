"""Portal: signing in to the web portals, and each role's start page."""

from onewindow.portal.models import Password
from onewindow.portal.service import set_password, sign_in, sign_out

__all__ = ["Password", "set_password", "sign_in", "sign_out"]
