from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt


@csrf_exempt  # ruleid
def change_password(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok")


def other(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok")


wrapped = csrf_exempt(other)  # ruleid
