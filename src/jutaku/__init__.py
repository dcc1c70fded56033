"""Jutaku: the My Number management system for Tokyo's public housing (都営住宅マイナンバー管理システム)."""

__version__ = "0.1.0"
