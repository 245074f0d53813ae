"""View pieces shared by the partner and staff APIs."""

from __future__ import annotations

from rest_framework import mixins
from rest_framework.response import Response


class ListModelMixin(mixins.ListModelMixin):
    """DRF's list, written so that a page is freed as soon as its response is sent.

    DRF's own leaves each page to the garbage collector. ``serializer(page, many=True)``
    builds a ListSerializer and a child that both keep the page's instances (``instance``,
    ``_args``) and the rows (``_data``) and point at each other; the view keeps its response
    and the response's renderer context keeps the view. Both are reference cycles, so a 500-row
    page's instances and rows waited for a full collection, which came every ninth page or so
    and took 30-50 ms at once (bench/paging.py). Here the rows are made one by one by a
    serializer that holds no page, and the view lets go of its response.
    """

    def list(self, request, *args, **kwargs):
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        serializer = self.get_serializer()
        rows = [serializer.to_representation(item) for item in (queryset if page is None else page)]
        if page is None:
            return Response(rows)
        return self.get_paginated_response(rows)

    def dispatch(self, request, *args, **kwargs):
        response = super().dispatch(request, *args, **kwargs)
        vars(self).pop("response", None)
        return response
