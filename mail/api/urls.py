from rest_framework.routers import SimpleRouter

from .views import MailboxViewSet, MailLogViewSet

router = SimpleRouter()
router.register("mailboxes", MailboxViewSet, basename="mailbox")
router.register("mail-log", MailLogViewSet, basename="mail-log")

urlpatterns = router.urls
