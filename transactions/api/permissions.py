"""Who may call the transaction API: partners for their own data, staff to read."""

from rest_framework.permissions import BasePermission

from .authentication import PartnerPrincipal


class IsPartner(BasePermission):
    message = "Only a partner's signed request may submit transactions."

    def has_permission(self, request, view) -> bool:
        return isinstance(request.user, PartnerPrincipal)


class IsPartnerOrTransactionViewer(BasePermission):
    message = "You do not have permission to view transactions."

    def has_permission(self, request, view) -> bool:
        user = request.user
        if isinstance(user, PartnerPrincipal):
            return True
        return bool(
            user and user.is_authenticated and user.has_perm("transactions.view_transaction")
        )
