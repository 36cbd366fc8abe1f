from rest_framework import pagination


class PageNumberPagination(pagination.PageNumberPagination):
    """`{"count", "next", "previous", "results"}`; clients may ask for up to 500 rows a page."""

    page_size_query_param = "page_size"
    max_page_size = 500


class CursorPagination(pagination.CursorPagination):
    """For the big lists (incidents, cards): deep pages cost the same as the first."""

    page_size_query_param = "page_size"
    max_page_size = 500
    ordering = "-id"
