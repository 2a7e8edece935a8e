from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_POST


@require_POST
@csrf_protect
def change_password(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok")
