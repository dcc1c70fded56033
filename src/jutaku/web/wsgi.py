import os

from django.core.wsgi import get_wsgi_application

os.umask(0o077)  # files the web application creates are its owner's alone (as in jutaku.cli.main)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jutaku.settings")
application = get_wsgi_application()
