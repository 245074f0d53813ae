"""OpenAPI description of partner request signing (drf-spectacular extension)."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class PartnerSignatureScheme(OpenApiAuthenticationExtension):
    target_class = "transactions.api.authentication.PartnerSignatureAuthentication"
    name = "PartnerSignature"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "X-Sentinel-Signature",
            "description": (
                "Send X-Sentinel-Key (the key id), X-Sentinel-Timestamp (Unix seconds) and "
                "X-Sentinel-Signature: lowercase hex HMAC-SHA256 of '<timestamp>.<raw body>' "
                "with the key's secret (empty body for GET). Timestamps more than 300 s from "
                "the server clock are refused."
            ),
        }
