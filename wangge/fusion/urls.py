from django.urls import path

from wangge.fusion import views

app_name = "fusion"

urlpatterns = [
    path("fusion/imports/", views.imports_page, name="imports"),
    path("fusion/imports/<int:pk>/", views.batch_page, name="batch"),
    path("fusion/imports/<int:pk>/errors.csv", views.batch_errors, name="batch_errors"),
    path("fusion/review/", views.review_page, name="review"),
    path("fusion/review/<int:pk>/", views.pair_page, name="pair"),
    path("fusion/review/<int:pk>/decide/", views.decide_page, name="decide"),
    path("fusion/quality/", views.quality_page, name="quality"),
    path("fusion/campaigns/", views.campaigns_page, name="campaigns"),
    path("fusion/campaigns/<int:pk>/", views.campaign_page, name="campaign"),
    path("fusion/campaigns/<int:pk>/people/<int:person_pk>/", views.campaign_form, name="campaign_form"),
    path("fusion/self-registrations/", views.registrations_page, name="registrations"),
    path("register/<str:code>/<str:token>/", views.self_register_page, name="self_register"),
]
