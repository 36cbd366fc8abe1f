from django import template

from knowledge.rendering import render_markdown

register = template.Library()


@register.filter
def article_html(body):
    """A public article's Markdown, rendered and sanitised by the knowledge base's renderer."""
    return render_markdown(body)
